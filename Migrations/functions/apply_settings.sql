-- reeld.apply_settings: writes a node's configuration of tiers, provider limits, costs and
-- kinds' deadlines (JSON built by QueueSettings.json), then brings every lane's limits and
-- every limited provider's running count up to date. Idempotent; callable again on reload; rows
-- that do not change are not written.
--
-- Lock order (docs/fair-share.md, "Lock order"): a transaction advisory lock (nodes take turns;
-- the fair claim holds it shared, so no claim is in flight while settings change), then tiers
-- and tier limits, then every lane in key order, then providers and costs by primary key, then
-- job kinds. Lanes before providers, as in every statement: a claim holds the lanes it serves and
-- then waits for its providers' rows, so a node that held a provider's row while it waited for
-- a lane would deadlock with it (40P01 at start or reload).
create or replace function reeld.apply_settings(p_settings jsonb) returns void
language plpgsql
as $$
begin
    perform pg_advisory_xact_lock(7365747469);  -- 'settings': one node writes at a time

    insert into reeld.tiers as t (tier, monthly_credits, max_export_height)
    select key::public.tier, (value ->> 'monthly_credits')::bigint, (value ->> 'max_export_height')::int
    from jsonb_each(p_settings -> 'tiers')
    on conflict (tier) do update set monthly_credits = excluded.monthly_credits, max_export_height = excluded.max_export_height
    where (t.monthly_credits, t.max_export_height) is distinct from (excluded.monthly_credits, excluded.max_export_height);

    insert into reeld.tier_limits as tl (tier, job_class, max_running, per_minute)
    select t.key::public.tier, c.key, (c.value ->> 'concurrent')::int, (c.value ->> 'per_minute')::int
    from jsonb_each(p_settings -> 'tiers') t, jsonb_each(t.value -> 'classes') c
    on conflict (tier, job_class) do update set max_running = excluded.max_running, per_minute = excluded.per_minute
    where (tl.max_running, tl.per_minute) is distinct from (excluded.max_running, excluded.per_minute);

    -- Every lane in key order, like every other statement that locks several, and before any
    -- provider's row (see the header). Its limits come from the tiers written above.
    perform 1 from reeld.lanes order by user_id, job_class for update;
    update reeld.lanes l set max_running = f.max_running, per_minute = f.per_minute,
                             tokens = least(l.tokens, coalesce(f.per_minute, 0))
    from (select x.user_id, x.job_class, lim.max_running, lim.per_minute
          from reeld.lanes x cross join lateral reeld.lane_limits(x.user_id, x.job_class) lim) f
    where l.user_id = f.user_id and l.job_class = f.job_class
      and (l.max_running, l.per_minute) is distinct from (f.max_running, f.per_minute);

    -- Providers: limits as configured, none for the rest (their throttle state stays).
    update reeld.providers set max_running = null, per_minute = null, is_default = false
    where not (name in (select jsonb_object_keys(p_settings -> 'provider_limits')))
      and (max_running is not null or per_minute is not null or is_default);
    insert into reeld.providers as p (name, max_running, per_minute, tokens)
    select key, (value ->> 'concurrent')::int, (value ->> 'per_minute')::int, coalesce((value ->> 'per_minute')::int, 0)
    from jsonb_each(p_settings -> 'provider_limits')
    on conflict (name) do update set max_running = excluded.max_running, per_minute = excluded.per_minute,
                                     tokens = least(p.tokens, coalesce(excluded.per_minute, 0))
    where (p.max_running, p.per_minute) is distinct from (excluded.max_running, excluded.per_minute);
    update reeld.providers set is_default = false where is_default and name <> (p_settings ->> 'default_provider');
    insert into reeld.providers as p (name, is_default) values (p_settings ->> 'default_provider', true)
    on conflict (name) do update set is_default = true where not p.is_default;

    -- A limited provider's running count (started - ended) made exact: started is raised only
    -- while a provider is limited, ended by every run's end, so a limit set or changed after
    -- unlimited runs would otherwise count their ends as room, and jobs still running from
    -- then not at all. No claim is in flight (the advisory lock), and ended and the running
    -- jobs are read in this statement's one snapshot, where every end shows in both or
    -- neither: from here on started - ended is what runs. Running jobs are few
    -- (jobs_lease_idx); only counts that are off are written.
    update reeld.providers p set started = c.started
    from (select l.name,
                 coalesce((select e.ended from reeld.provider_ends e where e.name = l.name), 0)
                 + (select count(*) from public.jobs j
                    where j.state = 'running' and j.provider = l.name and j.user_id is not null) as started
          from reeld.providers l where l.max_running is not null or l.per_minute is not null) c
    where p.name = c.name and p.started <> c.started;

    delete from reeld.costs c
    where not exists (select from jsonb_array_elements(p_settings -> 'costs') e
                      where e ->> 'kind' = c.kind and coalesce(e ->> 'model', '') = c.model);
    insert into reeld.costs as c (kind, model, estimate, per_unit)
    select e ->> 'kind', coalesce(e ->> 'model', ''), (e ->> 'estimate')::bigint, coalesce(e -> 'per_unit', '{}')
    from jsonb_array_elements(p_settings -> 'costs') e
    on conflict (kind, model) do update set estimate = excluded.estimate, per_unit = excluded.per_unit
    where (c.estimate, c.per_unit) is distinct from (excluded.estimate, excluded.per_unit);

    -- Deadlines of the kinds named (null: none); a kind not named keeps its own.
    update reeld.job_kinds k
    set waiting_deadline = make_interval(secs => (d.value ->> 'waiting_seconds')::double precision),
        throttled_deadline = make_interval(secs => (d.value ->> 'throttled_seconds')::double precision)
    from jsonb_each(coalesce(p_settings -> 'deadlines', '{}')) d
    where k.kind = d.key
      and (k.waiting_deadline, k.throttled_deadline) is distinct from
          (make_interval(secs => (d.value ->> 'waiting_seconds')::double precision),
           make_interval(secs => (d.value ->> 'throttled_seconds')::double precision));
end
$$;
