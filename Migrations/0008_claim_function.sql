-- The whole claim (JobQueue.claim) as one function whose statement keeps a generic plan.
--
-- The claim was one statement sent by the node, and PostgreSQL planned it afresh on every call
-- (about 0.7 ms, some 5 µs a job at the benchmark's batch sizes): `limit $2` makes a generic
-- plan look as if it returned a tenth of the table, so the plan cache never chose it. The
-- plan itself does not depend on the parameters (a walk of jobs_claim_system_idx, the fair
-- claim through its function, updates by primary key), so this function's statements are
-- planned once per connection. The fair claim it calls runs under the same setting; its lane
-- reads are pinned by 0007, which is what made a generic plan of it safe.
create function reeld.claim(p_owner text, p_limit int, p_now timestamptz, p_lease double precision)
returns setof reeld.claimed_job
language plpgsql
set plan_cache_mode = force_generic_plan
as $$
begin
    return query
    with fair as (
        -- Called only when a lane is due (lanes_due_idx), so the unlimited path pays one probe.
        select f.* from (select where exists (select from reeld.lanes where due_at <= coalesce(p_now, now()))) due
        cross join lateral reeld.claim_fair(p_owner, p_limit, p_now, p_lease) f
    ), picked as (
        -- Users' jobs first; system jobs (no user, unlimited) by priority, then run time. It may
        -- lock more than the batch has room for; the update takes what is left, and the rest
        -- are unlocked at commit.
        select c.id from public.jobs c
        where c.state in ('available', 'retryable', 'waiting') and c.user_id is null
          and c.run_at <= coalesce(p_now, now())
        order by c.priority, c.run_at
        limit p_limit
        for update skip locked
    ), changed as (
        update public.jobs j
        set state = 'running',
            attempt = case when j.state = 'waiting' then greatest(j.attempt, 1) else j.attempt + 1 end,
            lease_owner = p_owner,
            lease_expires_at = coalesce(p_now, now()) + make_interval(secs => p_lease),
            attempted_at = coalesce(p_now, now()),
            wake_requested = false
        from (select k.id from picked k limit greatest(p_limit - (select count(*) from fair), 0)) k
        where j.id = k.id
        returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at, j.args, j.attempt, j.max_attempts,
                  j.user_id, j.parent_id, j.snooze_state, j.priority, extract(epoch from j.created_at)::double precision as created
    ), published as (
        select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change)) as n
        from changed c
    )
    select c.* from changed c, published
    union all
    select f.* from fair f;
end
$$;
