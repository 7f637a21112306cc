-- reeld.settle_deleted_job, the row trigger jobs_settle_deleted on public.jobs: a job deleted
-- before it ended (its project or its user was deleted, and the foreign keys cascaded) ends as
-- a cancel ends it. Its reserve is released (reeld.settle_credits, so the ledger still explains
-- the balance), and a running attempt is counted as ended on its lane and its provider, or the
-- user and every user of that provider would lose a slot for good. A deleted user's own
-- account, lanes and counters go with the user; only the provider's count outlives them.
--
-- Security definer: a user deleting their own project under row-level security cascades into
-- jobs, and the settlement writes the ledger and the engine's counters, which the user may
-- not. It reads nothing but the deleted row.
--
-- Lock order as in the engine's statements that end jobs: the job row (the delete holds it),
-- the subscription (reeld.settle_credits), the lane's counter, then the provider's. The WHEN
-- clause keeps it off finished jobs, so pruning does not pay for it.
create or replace function reeld.settle_deleted_job() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, public
as $$
declare
    -- Within a user's delete, the cascade reaches jobs after the user's row is gone.
    v_user_kept boolean := old.user_id is not null and exists (select from auth.users u where u.id = old.user_id);
begin
    if v_user_kept and old.credits_reserved > 0 then
        perform reeld.settle_credits(array[(old.id, old.user_id, old.credits_reserved, null)::reeld.credit_settlement]);
    end if;
    if old.state = 'running' and old.user_id is not null then
        if v_user_kept then
            insert into reeld.lane_ends as e (user_id, job_class, ended) values (old.user_id, old.job_class, 1)
            on conflict (user_id, job_class) do update set ended = e.ended + 1;
        end if;
        if old.provider is not null then
            insert into reeld.provider_ends as e (name, ended) values (old.provider, 1)
            on conflict (name) do update set ended = e.ended + 1;
        end if;
    end if;
    return null;
end
$$;

revoke execute on function reeld.settle_deleted_job from public;

drop trigger if exists jobs_settle_deleted on public.jobs;
create trigger jobs_settle_deleted after delete on public.jobs
    for each row when (old.state in ('available', 'running', 'waiting', 'retryable'))
    execute function reeld.settle_deleted_job();
