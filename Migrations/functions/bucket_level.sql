-- reeld.bucket_level: a token bucket's level at p_now: up to p_per_minute tokens, refilled at
-- p_per_minute a minute. Pure.
create or replace function reeld.bucket_level(p_tokens double precision, p_refilled_at timestamptz, p_per_minute int, p_now timestamptz)
returns double precision
language sql immutable
as $$
    select least(p_per_minute::double precision,
                 p_tokens + greatest(extract(epoch from p_now - p_refilled_at), 0) * p_per_minute / 60.0)
$$;
