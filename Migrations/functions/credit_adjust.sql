-- reeld.credit_adjust: a correction by support, either way; it cannot take the balance below
-- zero. Idempotent by p_reference, as a purchase. Locks the subscription (reeld.credit_account)
-- first.
create or replace function reeld.credit_adjust(p_user uuid, p_amount bigint, p_reference text default null, p_note text default null)
returns boolean
language plpgsql
as $$
declare
    s public.subscriptions;
begin
    if p_amount is null or p_amount = 0 then
        raise exception using errcode = '22023', message = 'amount: an adjustment is a non-zero number of credits';
    end if;
    s := reeld.credit_account(p_user);
    if s.credits_balance + p_amount < 0 then
        raise exception using errcode = '22023',
            message = format('amount: the balance is %s credits; an adjustment of %s would make it negative', s.credits_balance, p_amount);
    end if;
    return reeld.credit_movement(p_user, 'adjustment', p_amount, p_reference, p_note);
end
$$;
