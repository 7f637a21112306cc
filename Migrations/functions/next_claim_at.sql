-- DRAFT from 0010_next_claim_at_cached.sql
-- reeld.next_claim_at (0005) as PL/pgSQL with a cached generic plan.
--
-- A worker asks it after every claim that found nothing, to know how long it may sleep. As a
-- SQL function its statement was planned on every call, and planning it cost about as much as
-- running it: the range conditions on lanes.due_at make the planner read the ends of
-- lanes_due_idx, which a busy queue fills with dead entries (after `reeld bench queue --fair`,
-- 406 calls were planned 406 times, 1.3 ms each, and took 3.2 ms each in all; now 3 plans and
-- 2.1 ms a call). It lies on the path from an idle node's empty claim to its wait for a NOTIFY. The statement is unchanged; its plan does not depend on p_now.
create or replace function reeld.next_claim_at(p_now timestamptz) returns timestamptz
language plpgsql stable
set plan_cache_mode = force_generic_plan
as $$
declare
    v_now timestamptz := coalesce(p_now, now());
    v_at timestamptz;
begin
    select min(t.at) into v_at from (
        select min(due_at) as at from reeld.lanes where due_at > v_now
        union all
        select min(l.refilled_at + make_interval(secs => (1 - l.tokens) * 60.0 / l.per_minute))
        from reeld.lanes l where l.due_at <= v_now and l.per_minute > 0 and l.tokens < 1
        union all
        select min(p.throttled_until) from reeld.providers p where p.throttled_until > v_now
        union all
        select min(p.refilled_at + make_interval(secs => (1 - p.tokens) * 60.0 / p.per_minute))
        from reeld.providers p where p.per_minute > 0 and p.tokens < 1
    ) t
    where t.at > v_now;
    return v_at;
end
$$;
