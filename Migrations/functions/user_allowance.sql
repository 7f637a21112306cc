-- reeld.user_allowance: a user's tier, monthly allowance and largest export, enterprise
-- overrides applied (free without a subscription). No locks; reads subscriptions_user_id_key
-- and tiers_pkey.
create or replace function reeld.user_allowance(p_user uuid, out tier public.tier, out monthly_credits bigint, out max_export_height int)
language sql stable
as $$
    select s.tier,
           coalesce(case when s.tier = 'enterprise' then (s.limits ->> 'monthly_credits')::bigint end, t.monthly_credits, 0),
           coalesce(case when s.tier = 'enterprise' then (s.limits ->> 'max_export_height')::int end, t.max_export_height, 720)
    from (select coalesce((select sub.tier from public.subscriptions sub where sub.user_id = p_user), 'free') as tier,
                 coalesce((select sub.limits from public.subscriptions sub where sub.user_id = p_user), '{}') as limits) s
    left join reeld.tiers t on t.tier = s.tier
$$;
