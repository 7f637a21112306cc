-- reeld.credit_movement: records one purchase or adjustment and moves the balance by it, once
-- per p_reference (credit_transactions_reference_idx): the same reference again changes
-- nothing and returns false. The caller has checked the amount and locked the subscription
-- (reeld.credit_account).
create or replace function reeld.credit_movement(p_user uuid, p_type text, p_amount bigint, p_reference text, p_note text)
returns boolean
language plpgsql
as $$
begin
    insert into public.credit_transactions (user_id, type, amount, reference, note)
    values (p_user, p_type, p_amount, p_reference, p_note)
    on conflict (user_id, type, reference) where reference is not null do nothing;
    if not found then
        return false;
    end if;
    update public.subscriptions set credits_balance = credits_balance + p_amount where user_id = p_user;
    return true;
end
$$;
