-- reeld.claim: the whole claim (JobQueue.claim). Leases up to p_limit jobs to p_owner for
-- p_lease seconds: users' jobs first, fairly, through reeld.claim_fair, then system jobs (no
-- user, unlimited) by priority and run time into what is left, only if anything is.
--
-- Lock order: claim_fair's (lanes, their jobs, providers last), then system jobs, FOR UPDATE
-- SKIP LOCKED: a claim never waits for a job another claim holds.
--
-- Indexes: lanes_due_idx answers whether any lane is due (the unlimited path's one probe);
-- jobs_claim_system_idx is walked in claim order for system jobs; the update goes by primary
-- key. Its statements keep a generic plan (planning them on every call cost as much as
-- running them; the plans do not depend on the parameters), and JIT is off: a claim is a
-- millisecond's work, and on a large table its estimated cost can pass jit_above_cost.
create or replace function reeld.claim(p_owner text, p_limit int, p_now timestamptz, p_lease double precision)
returns setof reeld.claimed_job
language plpgsql
set plan_cache_mode = force_generic_plan
set jit = off
as $$
declare
    v_fair int := 0;
    -- This claim's lease token for system jobs (see 0003_jobs.sql; claim_fair makes its own).
    v_token uuid := gen_random_uuid();
begin
    -- Users' jobs first, when a lane is due (lanes_due_idx: the unlimited path pays one probe).
    if exists (select from reeld.lanes where due_at <= coalesce(p_now, now())) then
        return query select * from reeld.claim_fair(p_owner, p_limit, p_now, p_lease);
        get diagnostics v_fair = row_count;
    end if;
    if v_fair >= p_limit then
        return;
    end if;
    -- System jobs (no user, unlimited) by priority, then run time, into what is left.
    return query
    with picked as (
        select c.id from public.jobs c
        where c.state in ('available', 'retryable', 'waiting') and c.user_id is null
          and c.run_at <= coalesce(p_now, now())
        order by c.priority, c.run_at
        limit p_limit - v_fair
        for update skip locked
    ), changed as (
        update public.jobs j
        set state = 'running',
            attempt = case when j.state = 'waiting' then greatest(j.attempt, 1) else j.attempt + 1 end,
            lease_owner = p_owner, lease_token = v_token,
            lease_expires_at = coalesce(p_now, now()) + make_interval(secs => p_lease),
            attempted_at = coalesce(p_now, now()),
            wake_requested = false
        -- By an array of ids: the generic plan cannot know how many a claim takes, and a join
        -- with picked could be planned as a hash join over the whole table.
        where j.id = any(array(select k.id from picked k))
        returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at, j.args, j.attempt, j.max_attempts,
                  j.user_id, j.parent_id, j.snooze_state, j.priority, extract(epoch from j.created_at)::double precision as created,
                  j.lease_token, j.provider
    ), published as (
        select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change)) as n
        from changed c
    )
    select c.* from changed c, published;
end
$$;
