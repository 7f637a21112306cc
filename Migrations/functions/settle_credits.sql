-- reeld.settle_credits: ends reservations, in the statement that ends their jobs: a success
-- captures `captured` (at most the reserve) and releases the rest; a failure or a cancel
-- (captured null) releases it all. Idempotent per job: a job whose reserve was already settled
-- is skipped, so a retried job (its reserve released when it failed) is not charged from a
-- reserve it no longer holds. Returns the jobs settled.
--
-- Lock order: subscriptions in user order (subscriptions_user_id_key), so that concurrent
-- settlements cannot deadlock. The ledger checks and inserts go by
-- credit_transactions_job_id_type_key.
create or replace function reeld.settle_credits(p_moves reeld.credit_settlement[]) returns int
language plpgsql
as $$
declare
    v_users uuid[];
    v_done int;
begin
    if p_moves is null or cardinality(p_moves) = 0 then
        return 0;
    end if;
    select array_agg(distinct m.user_id order by m.user_id) into v_users
    from unnest(p_moves) m where m.user_id is not null and m.reserved > 0;
    if v_users is null then
        return 0;
    end if;
    perform 1 from public.subscriptions where user_id = any(v_users) order by user_id for update;

    with todo as (
        select m.job_id, m.user_id, m.reserved, least(greatest(coalesce(m.captured, 0), 0), m.reserved) as capture,
               m.captured is not null as success
        from unnest(p_moves) m
        where m.user_id is not null and m.reserved > 0
          and exists (select from public.credit_transactions r where r.job_id = m.job_id and r.type = 'reserve')
          and not exists (select from public.credit_transactions s where s.job_id = m.job_id and s.type in ('capture', 'release'))
    ), moved as (
        insert into public.credit_transactions (user_id, job_id, type, amount, note)
        select t.user_id, t.job_id, 'capture', t.capture, null from todo t where t.capture > 0
        union all
        select t.user_id, t.job_id, 'release', t.reserved - t.capture,
               case when t.success then 'unused part of the reserve' else 'job did not succeed' end
        from todo t where t.reserved > t.capture
        on conflict (job_id, type) do nothing
        returning user_id, job_id, type, amount
    ), per_user as (
        select t.user_id, sum(t.reserved) as reserved, sum(t.reserved - t.capture) as released, count(*) as jobs
        from todo t group by t.user_id
    ), updated as (
        update public.subscriptions s
        set credits_reserved = s.credits_reserved - p.reserved, credits_balance = s.credits_balance + p.released
        from per_user p where s.user_id = p.user_id
        returning p.jobs
    )
    select coalesce(sum(u.jobs), 0)::int + 0 * (select count(*) from moved) into v_done from updated u;
    return v_done;
end
$$;
