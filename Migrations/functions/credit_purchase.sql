-- reeld.credit_purchase: credits bought (or added by support): +amount. p_reference (a payment
-- id) makes it idempotent (credit_transactions_reference_idx): the same reference again
-- changes nothing and returns false. Locks the subscription (reeld.credit_account) first.
create or replace function reeld.credit_purchase(p_user uuid, p_amount bigint, p_reference text default null, p_note text default null)
returns boolean
language plpgsql
as $$
begin
    if p_amount is null or p_amount <= 0 then
        raise exception using errcode = '22023', message = format('amount: a purchase adds credits (got %s)', p_amount);
    end if;
    perform reeld.credit_account(p_user);
    return reeld.credit_movement(p_user, 'purchase', p_amount, p_reference, p_note);
end
$$;
