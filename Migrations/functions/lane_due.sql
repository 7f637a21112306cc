-- reeld.lane_due, the row trigger jobs_lane_due on public.jobs: a user's job that becomes
-- claimable again (retry, snooze, hand-back, rescue, a wake-up that moves run_at earlier)
-- lowers its lane's due_at, creating the lane if it is missing, and raises its depth when the
-- job was not claimable before.
--
-- Locks the lane's row (lanes_pkey) after the job's. The WHEN clause is false for the claim and
-- the completion, so the hot path does not pay for it.
create or replace function reeld.lane_due() returns trigger
language plpgsql
as $$
begin
    insert into reeld.lanes as l (user_id, job_class, max_running, per_minute, tokens, due_at, depth)
    select new.user_id, new.job_class, lim.max_running, lim.per_minute, coalesce(lim.per_minute, 0), new.run_at,
           case when old.state in ('available', 'retryable', 'waiting') then 0 else 1 end
    from reeld.lane_limits(new.user_id, new.job_class) lim
    on conflict (user_id, job_class) do update set due_at = least(l.due_at, excluded.due_at), depth = l.depth + excluded.depth;
    return null;
end
$$;

drop trigger if exists jobs_lane_due on public.jobs;
create trigger jobs_lane_due after update of state, run_at on public.jobs
    for each row when (new.user_id is not null and new.state in ('available', 'retryable', 'waiting')
                       and (old.state not in ('available', 'retryable', 'waiting') or new.run_at < old.run_at))
    execute function reeld.lane_due();
