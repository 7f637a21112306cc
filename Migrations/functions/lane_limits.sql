-- reeld.lane_limits: the limits of one lane (null: unlimited; class 'none' is never limited):
-- the user's tier (free without a subscription), with an enterprise subscription's overrides
-- ({"concurrent": {"video": 20}, "per_minute": {"video": 60}}). No locks; reads
-- subscriptions_user_id_key and tier_limits_pkey.
create or replace function reeld.lane_limits(p_user uuid, p_class text, out max_running int, out per_minute int)
language sql stable
as $$
    select case when p_class = 'none' then null
                else coalesce(case when s.tier = 'enterprise' then (s.limits -> 'concurrent' ->> p_class)::int end, tl.max_running) end,
           case when p_class = 'none' then null
                else coalesce(case when s.tier = 'enterprise' then (s.limits -> 'per_minute' ->> p_class)::int end, tl.per_minute) end
    from (select coalesce((select sub.tier from public.subscriptions sub where sub.user_id = p_user), 'free') as tier,
                 coalesce((select sub.limits from public.subscriptions sub where sub.user_id = p_user), '{}') as limits) s
    left join reeld.tier_limits tl on tl.tier = s.tier and tl.job_class = p_class
$$;
