-- reeld.jobs_cancel_provider_task, the row trigger jobs_cancel_provider_task on public.jobs: a
-- job that ends cancelled while its snooze state holds a provider task (GenerationHandler keeps
-- task_id, provider and generation_id there) gets a system.provider_cancel job, in the same
-- transaction as the cancel, which asks that provider to stop the task. The WHEN clause keeps
-- every other update of a job (the hot path: claims, heartbeats, completions) free of it.
-- The idempotency key makes a second cancel of the same task (a job retried by an operator and
-- cancelled again while still on it) enqueue nothing more.
create or replace function reeld.jobs_cancel_provider_task() returns trigger
language plpgsql
as $$
begin
    -- Straight into the table, not through reeld.submit_job: nothing here is the user's to
    -- validate or pay for, and the cancelling statement must not fail on a submit's checks.
    insert into public.jobs (kind, args, idempotency_key, priority, max_attempts, job_class, provider)
    select 'system.provider_cancel',
            jsonb_build_object('provider', new.snooze_state ->> 'provider', 'task_id', new.snooze_state ->> 'task_id',
                               'generation_id', new.snooze_state -> 'generation_id', 'job_id', new.id, 'kind', new.kind),
            'provider-cancel:' || new.id || ':' || (new.snooze_state ->> 'task_id'),
            50, k.max_attempts, 'none', new.snooze_state ->> 'provider'
    from reeld.job_kinds k where k.kind = 'system.provider_cancel'
    on conflict do nothing;
    return null;
end
$$;

drop trigger if exists jobs_cancel_provider_task on public.jobs;
create trigger jobs_cancel_provider_task after update of state on public.jobs
    for each row
    when (new.state = 'cancelled' and old.state is distinct from 'cancelled'
          and new.snooze_state ? 'task_id' and new.snooze_state ? 'provider')
    execute function reeld.jobs_cancel_provider_task();
