-- Running counts as counters instead of indexes.
--
-- 0005 counted a lane's and a provider's running jobs with two partial indexes on jobs
-- (jobs_running_lane_idx, jobs_running_provider_idx). Every claim of a user's job then wrote
-- two more index entries, and with jobs_user_idx and jobs_lease_idx that made the claim's
-- update cost twice the unlimited path's (`reeld bench queue --fair`). Here the counts are
-- kept as monotonic counters instead, split so that claims and job ends never wait for each
-- other:
--
--   started  on reeld.lanes / reeld.providers: raised by the fair claim, which holds those
--            rows' locks when it reads and raises it, so it is exact;
--   ended    in reeld.lane_ends / reeld.provider_ends: raised by every statement that ends a
--            user's running attempt (JobQueue: complete, fail, snooze, cancel acknowledged,
--            release, rescue), in that statement, through reeld.count_run_ends().
--
-- running = started − ended. The claim reads `ended` from its snapshot without a lock, so it
-- may miss an end that committed a moment ago: the count is then high, never low, and a limit
-- is never exceeded. Only users' jobs are counted: system jobs are unlimited (the plain claim).

drop index public.jobs_running_lane_idx;
drop index public.jobs_running_provider_idx;

alter table reeld.lanes add column started bigint not null default 0;
alter table reeld.providers add column started bigint not null default 0;

create table reeld.lane_ends (
    user_id uuid not null references auth.users (id) on delete cascade,
    job_class text not null,
    ended bigint not null default 0,
    primary key (user_id, job_class)
);
create table reeld.provider_ends (
    name text primary key,
    ended bigint not null default 0
);
-- Rewritten by every batch of job ends: keep their updates HOT and their dead rows vacuumed.
alter table reeld.lane_ends set (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02);
alter table reeld.provider_ends set (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);

-- Jobs running when this migration runs are counted as started.
update reeld.lanes l set started = r.n
from (select user_id, job_class, count(*) as n from public.jobs
      where lease_owner is not null and user_id is not null group by 1, 2) r
where l.user_id = r.user_id and l.job_class = r.job_class;
update reeld.providers p set started = r.n
from (select provider, count(*) as n from public.jobs
      where lease_owner is not null and user_id is not null and provider is not null group by 1) r
where p.name = r.provider;

-- What a statement that ended running attempts passes to count_run_ends(): one per job.
create type reeld.run_end as (user_id uuid, job_class text, provider text);

-- Counts ended attempts of users' jobs (system jobs are not counted; see above). Rows are
-- locked in key order, so two nodes' batches cannot deadlock. Returns the lanes counted in.
-- PL/pgSQL rather than SQL so that its two statements' plans are cached per connection (a SQL
-- function's are planned on every call, which cost more than the upserts).
create function reeld.count_run_ends(p_ends reeld.run_end[]) returns int
language plpgsql
as $$
declare
    v_lanes int;
begin
    insert into reeld.lane_ends as e (user_id, job_class, ended)
    select x.user_id, x.job_class, count(*) from unnest(p_ends) x
    where x.user_id is not null
    group by 1, 2 order by 1, 2
    on conflict (user_id, job_class) do update set ended = e.ended + excluded.ended;
    get diagnostics v_lanes = row_count;
    insert into reeld.provider_ends as e (name, ended)
    select x.provider, count(*) from unnest(p_ends) x
    where x.user_id is not null and x.provider is not null
    group by 1 order by 1
    on conflict (name) do update set ended = e.ended + excluded.ended;
    return v_lanes;
end
$$;

-- The fair claim of 0005, unchanged but for where its running counts come from: the lanes' and
-- providers' started counters (read and raised under the locks the claim already takes) less
-- their ended counters.
create or replace function reeld.claim_fair(p_owner text, p_limit int, p_now timestamptz, p_lease double precision)
returns setof reeld.claimed_job
language plpgsql
as $$
declare
    v_now timestamptz := coalesce(p_now, now());
    v_lanes tid[];
    v_held text[];
    v_blocked text[];
begin
    if p_limit is null or p_limit < 1 then
        return;
    end if;
    -- The lanes, and the limited providers that are not throttled, locked in one statement (a
    -- provider another node is claiming for right now is blocked for this round), and the
    -- blocked providers named.
    with lanes as (
        select l.ctid from reeld.lanes l
        where l.due_at <= v_now
        order by l.served_at
        limit greatest(ceil(p_limit / 4.0)::int, 8)
        for update skip locked
    ), held as (
        select name from reeld.providers
        where (max_running is not null or per_minute is not null)
          and (throttled_until is null or throttled_until <= v_now)
          and exists (select from lanes)
        order by name
        for update skip locked
    )
    select (select array_agg(l.ctid) from lanes l),
           coalesce((select array_agg(h.name) from held h), '{}'),
           coalesce((select array_agg(p.name) from reeld.providers p
                     where exists (select from lanes)
                       and (p.throttled_until > v_now
                            or ((p.max_running is not null or p.per_minute is not null)
                                and not exists (select from held h where h.name = p.name)))), '{}')
    into v_lanes, v_held, v_blocked;
    if v_lanes is null then
        return;
    end if;
    return query
    with provider_room as materialized (
        -- started is exact (this claim holds the provider's lock); ended may lag (see above).
        select p.name, t.tokens_now,
               greatest(least(
                   case when p.max_running is null then p_limit
                        else p.max_running - (p.started - coalesce((select e.ended from reeld.provider_ends e
                                                                    where e.name = p.name), 0))::int end,
                   case when p.per_minute is null then p_limit else floor(t.tokens_now)::int end), 0) as room
        from reeld.providers p
        cross join lateral (select reeld.bucket_level(p.tokens, p.refilled_at, p.per_minute, v_now) as tokens_now) t
        where p.name = any(v_held)
    ), blocked as materialized (
        -- A provider without room is passed over, so that its jobs do not take lanes' turns.
        select v_blocked || coalesce(array_agg(r.name) filter (where r.room <= 0), '{}') as names from provider_room r
    ), locked as (
        -- By ctid: this claim holds the lanes' locks, so nobody has moved them since step 1.
        -- first_turn: what the lane could give: at most 16 jobs, its room, about its depth.
        select o.row_id, x.user_id, x.job_class, o.n as ord, x.per_minute, x.depth, t.tokens_now,
               least(16, greatest(x.depth, 1), greatest(least(
                   case when x.max_running is null then p_limit
                        else x.max_running - (x.started - coalesce((select e.ended from reeld.lane_ends e
                                                                    where e.user_id = x.user_id and e.job_class = x.job_class), 0))::int end,
                   case when x.per_minute is null then p_limit else floor(t.tokens_now)::int end), 0)) as first_turn
        from unnest(v_lanes) with ordinality as o(row_id, n)
        cross join lateral (select * from reeld.lanes l where l.ctid = o.row_id) x
        cross join lateral (select reeld.bucket_level(x.tokens, x.refilled_at, x.per_minute, v_now) as tokens_now) t
    ), lane as (
        -- In round-robin order, the lanes whose turns fill the batch (the last one's turn cut to
        -- fit); the lanes after them were locked but are left as they were.
        select k.*, least(k.first_turn, p_limit - (k.filled - k.first_turn)) as turn
        from (select l.*, sum(l.first_turn) over (order by l.ord) as filled from locked l) k
        where k.filled - k.first_turn < p_limit
    ), candidate as (
        select j.id, j.provider, l.row_id, l.ord,
               row_number() over (partition by l.row_id order by j.priority, j.run_at) as lane_rank
        from lane l
        cross join lateral (
            select c.id, c.provider, c.priority, c.run_at from public.jobs c
            where c.user_id = l.user_id and c.job_class = l.job_class
              and c.state in ('available', 'retryable', 'waiting') and c.run_at <= v_now
              and (c.provider is null or not (c.provider = any((select b.names from blocked b)::text[])))
            order by c.priority, c.run_at
            limit l.turn
            for update skip locked) j
        where l.turn > 0
    ), chosen as (
        select r.id, r.row_id, r.provider
        from (select c.*, row_number() over (partition by c.provider order by c.lane_rank, c.ord) as provider_rank
              from candidate c) r
        left join provider_room pr on pr.name = r.provider
        where pr.name is null or r.provider_rank <= pr.room
        order by r.lane_rank, r.ord
        limit p_limit
    ), claimed as (
        update public.jobs j
        set state = 'running',
            attempt = case when j.state = 'waiting' then greatest(j.attempt, 1) else j.attempt + 1 end,
            lease_owner = p_owner,
            lease_expires_at = v_now + make_interval(secs => p_lease),
            attempted_at = v_now,
            wake_requested = false
        from chosen c
        where j.id = c.id
        returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at, j.args, j.attempt, j.max_attempts,
                  j.user_id, j.parent_id, j.snooze_state, j.priority, extract(epoch from j.created_at)::double precision
    ), per_lane as materialized (
        select l.row_id, l.user_id, l.job_class, l.turn, l.tokens_now, coalesce(f.n, 0) as found, coalesce(t.n, 0) as taken
        from lane l
        left join (select c.row_id, count(*)::int as n from candidate c group by c.row_id) f on f.row_id = l.row_id
        left join (select c.row_id, count(*)::int as n from chosen c group by c.row_id) t on t.row_id = l.row_id
    ), short as materialized (
        -- A lane that found less than its turn: is due work left (trimmed, or waiting for a
        -- provider)? If not, when is its next job due (null: it has none)?
        select p.row_id, d.due_left,
               case when d.due_left then v_now
                    else (select min(c.run_at) from public.jobs c
                          where c.user_id = p.user_id and c.job_class = p.job_class
                            and c.state in ('available', 'retryable', 'waiting')
                            and not exists (select from chosen h where h.id = c.id)) end as next_due
        from per_lane p
        cross join lateral (select exists (
            select from public.jobs c
            where c.user_id = p.user_id and c.job_class = p.job_class
              and c.state in ('available', 'retryable', 'waiting') and c.run_at <= v_now
              and not exists (select from chosen h where h.id = c.id)) as due_left) d
        where p.found < p.turn
    ), lanes_served as (
        update reeld.lanes x
        -- The wall clock, not v_now (which tests may freeze): only its order matters.
        set served_at = case when p.taken > 0 or p.turn = 0 then clock_timestamp() else x.served_at end,
            tokens = case when x.per_minute is null then 0 else p.tokens_now - p.taken end,
            started = x.started + p.taken,
            -- Never backwards: a claim whose transaction began before the last one's must not
            -- count the time between them twice.
            refilled_at = greatest(x.refilled_at, v_now),
            depth = case when s.row_id is null then greatest(x.depth - p.taken, 0)
                         when s.due_left then greatest(x.depth - p.taken, 1)
                         else 0 end,
            due_at = case when s.row_id is null then x.due_at else s.next_due end
        from per_lane p left join short s on s.row_id = p.row_id
        where x.ctid = any(v_lanes) and x.ctid = p.row_id
        -- Work left behind: a lane served its full turn (it may have more), or was trimmed.
        returning p.taken < p.found or (p.taken > 0 and p.taken >= p.turn) as left_behind
    ), providers_used as (
        update reeld.providers p
        set tokens = case when p.per_minute is null then 0 else pr.tokens_now - coalesce(u.n, 0) end,
            started = p.started + coalesce(u.n, 0),
            refilled_at = greatest(p.refilled_at, v_now)
        from provider_room pr
        left join (select c.provider, count(*)::int as n from chosen c group by c.provider) u on u.provider = pr.name
        where p.name = pr.name
        returning p.name
    ), published as (
        select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change)) as n
        from claimed c
    ), wake as (
        -- Other nodes may have found these lanes locked and gone idle: wake them on commit.
        select case when bool_or(s.left_behind) or count(*) < cardinality(v_lanes) then pg_notify('reeld_jobs', '') end as notified
        from lanes_served s
    )
    select c.* from claimed c, published, (select count(*) from wake) w, (select count(*) from providers_used) pu;
end
$$;

-- MARK: Lanes made per statement, not per row

-- 0005 made and raised lanes in a row trigger: a bulk insert of a user's backlog rewrote the
-- same lane row once per job inside one transaction, and each rewrite walked the row's growing
-- chain of versions (100,000 jobs over 4,000 lanes went in at under 3,000 jobs/s). The insert
-- trigger that already publishes new jobs now upserts each lane once, in key order (so that two
-- bulk inserts cannot deadlock); a submit (one row) costs the same as before.
drop trigger jobs_lane_after_insert on public.jobs;
drop function reeld.lane_after_insert();

create or replace function reeld.jobs_after_insert() returns trigger
language plpgsql
as $$
begin
    perform reeld.publish(array_agg((n.id, n.kind, n.project_id, n.state, n.progress, n.run_at)::reeld.job_change))
    from new_rows n;
    insert into reeld.lanes as l (user_id, job_class, max_running, per_minute, tokens, due_at, depth)
    select n.user_id, n.job_class, lim.max_running, lim.per_minute, coalesce(lim.per_minute, 0), n.due_at, n.depth
    from (select r.user_id, r.job_class, min(r.run_at) as due_at, count(*)::int as depth
          from new_rows r
          where r.user_id is not null and r.state in ('available', 'retryable', 'waiting')
          group by 1, 2 order by 1, 2) n
    cross join lateral reeld.lane_limits(n.user_id, n.job_class) lim
    on conflict (user_id, job_class) do update set due_at = least(l.due_at, excluded.due_at), depth = l.depth + excluded.depth;
    return null;
end
$$;
