-- reeld.jobs_after_insert, the statement trigger jobs_after_insert on public.jobs: publishes
-- every inserted job (reeld.publish), and for users' claimable jobs creates each lane (a new
-- lane starts with a full bucket) or lowers its due_at and raises its depth, once per lane and
-- statement, so that a bulk insert of a backlog rewrites each lane once.
--
-- Lock order: lanes in key order (user, class), so two bulk inserts cannot deadlock. The
-- upsert goes by lanes_pkey; reeld.lane_limits reads the subscription and tier limits by key.
create or replace function reeld.jobs_after_insert() returns trigger
language plpgsql
as $$
begin
    perform reeld.publish(array_agg((n.id, n.kind, n.project_id, n.state, n.progress, n.run_at)::reeld.job_change))
    from new_rows n;
    insert into reeld.lanes as l (user_id, job_class, max_running, per_minute, tokens, due_at, depth)
    select n.user_id, n.job_class, lim.max_running, lim.per_minute, coalesce(lim.per_minute, 0), n.due_at, n.depth
    from (select r.user_id, r.job_class, min(r.run_at) as due_at, count(*)::int as depth
          from new_rows r
          where r.user_id is not null and r.state in ('available', 'retryable', 'waiting')
          group by 1, 2 order by 1, 2) n
    cross join lateral reeld.lane_limits(n.user_id, n.job_class) lim
    on conflict (user_id, job_class) do update set due_at = least(l.due_at, excluded.due_at), depth = l.depth + excluded.depth;
    return null;
end
$$;

drop trigger if exists jobs_after_insert on public.jobs;
create trigger jobs_after_insert after insert on public.jobs
    referencing new table as new_rows for each statement execute function reeld.jobs_after_insert();
