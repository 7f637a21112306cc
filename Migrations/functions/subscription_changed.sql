-- reeld.subscription_changed, the row trigger subscriptions_limits on public.subscriptions: a
-- user's lanes take the limits of their new tier or overrides (reeld.lane_limits), and no more
-- tokens than the new rate allows.
--
-- Locks the subscription (the statement that fired it), then the user's lanes (lanes_pkey
-- range on user_id), only those whose limits change.
create or replace function reeld.subscription_changed() returns trigger
language plpgsql
as $$
begin
    update reeld.lanes l set max_running = f.max_running, per_minute = f.per_minute,
                             tokens = least(l.tokens, coalesce(f.per_minute, 0))
    from (select x.job_class, lim.max_running, lim.per_minute
          from reeld.lanes x cross join lateral reeld.lane_limits(x.user_id, x.job_class) lim
          where x.user_id = new.user_id) f
    where l.user_id = new.user_id and l.job_class = f.job_class
      and (l.max_running, l.per_minute) is distinct from (f.max_running, f.per_minute);
    return null;
end
$$;

drop trigger if exists subscriptions_limits on public.subscriptions;
create trigger subscriptions_limits after insert or update of tier, limits on public.subscriptions
    for each row execute function reeld.subscription_changed();
