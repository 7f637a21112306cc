-- reeld.wake_parent, the row trigger jobs_wake_parent on public.jobs: a child that ends wakes
-- the parent waiting for it (a workflow run): due at once, and if the parent is running right
-- now, its next snooze turns into an immediate re-run; NOTIFY reeld_jobs when it woke one.
--
-- Locks the parent's row (by primary key). The WHEN clause is false for every job without a
-- parent, so the queue's hot path does not pay for it.
create or replace function reeld.wake_parent() returns trigger
language plpgsql
as $$
begin
    update public.jobs set run_at = least(run_at, now()), wake_requested = true
    where id = new.parent_id and state in ('waiting', 'running', 'available', 'retryable');
    if found then
        perform pg_notify('reeld_jobs', '');
    end if;
    return null;
end
$$;

drop trigger if exists jobs_wake_parent on public.jobs;
create trigger jobs_wake_parent after update of state on public.jobs
    for each row when (new.parent_id is not null and new.state in ('completed', 'failed', 'cancelled')
                       and old.state is distinct from new.state)
    execute function reeld.wake_parent();
