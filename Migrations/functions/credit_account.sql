-- reeld.credit_account: the user's subscription row, created (free tier) if missing and
-- locked, with this month's allowance granted if it was not yet: one grant per user and month,
-- whoever asks first (credit_transactions_grant_idx). Every function that moves credits takes
-- this lock first, before any job row or lane.
create or replace function reeld.credit_account(p_user uuid, p_now timestamptz default null) returns public.subscriptions
language plpgsql
as $$
declare
    v_period date := date_trunc('month', coalesce(p_now, now()) at time zone 'UTC')::date;
    s public.subscriptions;
    a record;
begin
    insert into public.subscriptions (user_id) values (p_user) on conflict (user_id) do nothing;
    select * into s from public.subscriptions where user_id = p_user for update;
    if s.granted_period is null or s.granted_period < v_period then
        select * into a from reeld.user_allowance(p_user);
        if a.monthly_credits > 0 then
            insert into public.credit_transactions (user_id, type, amount, period_start, note)
            values (p_user, 'grant', a.monthly_credits, v_period, format('monthly allowance (%s) for %s', a.tier, to_char(v_period, 'YYYY-MM')))
            on conflict (user_id, period_start) where type = 'grant' do nothing;
            if found then
                s.credits_balance := s.credits_balance + a.monthly_credits;
            end if;
        end if;
        update public.subscriptions
        set credits_balance = s.credits_balance, granted_period = v_period,
            current_period_start = v_period::timestamp at time zone 'UTC'
        where user_id = p_user
        returning * into s;
    end if;
    return s;
end
$$;
