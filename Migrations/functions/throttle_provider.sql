-- reeld.throttle_provider: a provider answered 429: no node starts its jobs until Retry-After
-- has passed, or, without one, an exponential backoff over the provider's consecutive 429s (a
-- 429 after a quiet quarter of an hour starts the count again). Returns the time the throttle
-- ends; never shortens one. Locks the provider's row (upsert on providers_pkey).
create or replace function reeld.throttle_provider(p_provider text, p_now timestamptz, p_retry_after double precision,
                                        p_backoff_base double precision, p_backoff_cap double precision)
returns timestamptz
language plpgsql
as $$
declare
    v_now timestamptz := coalesce(p_now, now());
    v_until timestamptz;
begin
    if p_provider is null then
        return null;
    end if;
    insert into reeld.providers as p (name, throttled_until, throttle_strikes)
    values (p_provider, v_now + make_interval(secs => coalesce(p_retry_after, p_backoff_base)), 1)
    on conflict (name) do update set
        throttle_strikes = case when p.throttled_until is null or p.throttled_until < v_now - interval '15 minutes' then 1
                                else p.throttle_strikes + 1 end,
        throttled_until = greatest(coalesce(p.throttled_until, v_now), v_now + make_interval(secs => coalesce(
            p_retry_after,
            least(p_backoff_cap, p_backoff_base * 2 ^ least(
                case when p.throttled_until is null or p.throttled_until < v_now - interval '15 minutes' then 0
                     else p.throttle_strikes end, 30)))))
    returning throttled_until into v_until;
    return v_until;
end
$$;
