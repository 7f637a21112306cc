-- reeld.next_claim_at: when the claim may find work that is not claimable yet: the earliest
-- future due_at of a lane, the moment a rate-limited due lane or provider gets its next token,
-- the end of a throttle; null if none. A worker waits at most this long (and at most its poll
-- interval) after a claim that found nothing. Only future moments count: work claimable now
-- that the claim did not take is held by something time does not end (a concurrency limit,
-- another node's lock).
--
-- Takes no locks. Indexes: lanes_due_idx for the lanes' due_at ranges; providers are few.
-- PL/pgSQL with a generic plan because planning the statement cost as much as running it (the
-- planner reads the ends of lanes_due_idx, which a busy queue fills with dead entries), and it
-- lies on the path from an idle node's empty claim to its wait for a NOTIFY.
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
