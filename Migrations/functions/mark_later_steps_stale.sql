-- reeld.mark_later_steps_stale, the row trigger jobs_mark_later_steps_stale on public.jobs:
-- regenerating an earlier step marks the later completed steps of the project stale; their
-- assets stay. Each one marked stale counts one more regeneration, which gives a workflow run's
-- children for that step fresh idempotency keys when it runs the step again. Locks those
-- workflow_steps rows (workflow_steps_project_id_step_key range) after the job's. The WHEN
-- clause keeps it off every job but a completed project job with a class.
create or replace function reeld.mark_later_steps_stale() returns trigger
language plpgsql
as $$
declare
    v_step public.workflow_step := reeld.job_step(new.kind, new.args);
begin
    if v_step is not null then
        update public.workflow_steps set state = 'stale', regeneration = regeneration + 1, updated_at = now()
        where project_id = new.project_id and step > v_step and state = 'completed';
    end if;
    return null;
end
$$;

drop trigger if exists jobs_mark_later_steps_stale on public.jobs;
create trigger jobs_mark_later_steps_stale after update of state on public.jobs
    for each row when (new.state = 'completed' and old.state is distinct from new.state
                       and new.project_id is not null and new.job_class <> 'none')
    execute function reeld.mark_later_steps_stale();
