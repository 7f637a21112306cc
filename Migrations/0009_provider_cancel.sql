-- A job cancelled while its provider works on a task (it waited on it, or was polling it) leaves
-- the task running at the provider, made and billed for nobody. The trigger in
-- functions/jobs_cancel_provider_task.sql enqueues this system job in the cancelling statement,
-- whoever cancels (reelctl, the studio's own SQL, a worker acknowledging a running job's cancel),
-- and any node asks the provider to stop the task.
insert into reeld.job_kinds (kind, max_attempts, required_args, needs_project, job_class, uses_provider, class_from_args, description)
values ('system.provider_cancel', 5, '{provider,task_id}', false, 'none', false, false,
        'asks a provider to stop the task of a job cancelled while the provider worked on it');
