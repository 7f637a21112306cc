-- The fair claim's per-lane reads pinned to jobs_claim_lane_idx, and fewer lanes locked.
--
-- A lane's jobs in claim order are the leading range of jobs_claim_lane_idx (user, class, then
-- priority and run time), which holds claimable jobs only. jobs_user_idx also answers
-- `user_id = …`, and once the statistics say few of a user's rows are claimable the planner
-- costs both at a row or so, and a cached plan of 0006's claim could take jobs_user_idx and
-- sort: it then read every version of every job the user ever had, for each lane, on every
-- claim (`reeld bench queue --fair` fell from about 60 % to 30 % of the unlimited drain in one
-- run in four). The two per-lane reads now live in functions planned with sorting disabled,
-- so the only plan left for a lane's jobs in order is the walk of jobs_claim_lane_idx.

-- Up to p_turn of a lane's claimable jobs, in claim order, locked (SKIP LOCKED); jobs of the
-- blocked providers are passed over, not waited behind.
create function reeld.lane_pick(p_user uuid, p_class text, p_now timestamptz, p_turn int, p_blocked text[])
returns table (id uuid, provider text, priority smallint, run_at timestamptz)
language plpgsql
set enable_sort = off
as $$
begin
    return query
    select c.id, c.provider, c.priority, c.run_at from public.jobs c
    where c.user_id = p_user and c.job_class = p_class
      and c.state in ('available', 'retryable', 'waiting') and c.run_at <= p_now
      and (c.provider is null or not (c.provider = any(p_blocked)))
    order by c.priority, c.run_at
    limit p_turn
    for update skip locked;
end
$$;

-- When a lane's earliest claimable job, other than p_taken (jobs its claim has just taken, which
-- the claim's snapshot still shows claimable), is due; null when it has none. Read in claim
-- order (the whole lane's claimable range, which is what is left of it) so that the plan is the
-- walk of jobs_claim_lane_idx, as above.
create function reeld.lane_next_due(p_user uuid, p_class text, p_taken uuid[])
returns timestamptz
language plpgsql
set enable_sort = off
as $$
declare
    v_due timestamptz;
begin
    select min(s.run_at) into v_due from (
        select c.run_at from public.jobs c
        where c.user_id = p_user and c.job_class = p_class
          and c.state in ('available', 'retryable', 'waiting')
          and c.id <> all(p_taken)
        order by c.priority, c.run_at
        offset 0) s;
    return v_due;
end
$$;

-- The fair claim of 0006, but for: lanes locked one by one until their turns could fill the
-- batch; the per-lane reads through the two functions above; and one read of a short lane's
-- next due job where there were two.
create or replace function reeld.claim_fair(p_owner text, p_limit int, p_now timestamptz, p_lease double precision)
returns setof reeld.claimed_job
language plpgsql
as $$
declare
    v_now timestamptz := coalesce(p_now, now());
    v_lanes tid[] := '{}';
    v_lane record;
    v_could int := 0;
    v_held text[];
    v_blocked text[];
begin
    if p_limit is null or p_limit < 1 then
        return;
    end if;
    -- The least recently served due lanes, locked one by one (SKIP LOCKED: a lane another node
    -- is serving this instant is passed over) until their turns could fill the batch, so that
    -- a claim locks and rewrites the lanes it serves and few more (0006 locked a quarter of the
    -- batch's size in lanes and served a sixteenth of them when lanes are deep).
    for v_lane in
        select l.ctid, l.depth from reeld.lanes l
        where l.due_at <= v_now
        order by l.served_at
        limit greatest(ceil(p_limit / 4.0)::int, 8)
        for update skip locked
    loop
        v_lanes := v_lanes || v_lane.ctid;
        v_could := v_could + least(16, greatest(v_lane.depth, 1));
        exit when v_could >= p_limit;
    end loop;
    if cardinality(v_lanes) = 0 then
        return;
    end if;
    -- The limited providers that are not throttled, locked (one another node is claiming for
    -- right now is blocked for this round), and the blocked providers named.
    with held as (
        select name from reeld.providers
        where (max_running is not null or per_minute is not null)
          and (throttled_until is null or throttled_until <= v_now)
        order by name
        for update skip locked
    )
    select coalesce((select array_agg(h.name) from held h), '{}'),
           coalesce((select array_agg(p.name) from reeld.providers p
                     where p.throttled_until > v_now
                        or ((p.max_running is not null or p.per_minute is not null)
                            and not exists (select from held h where h.name = p.name))), '{}')
    into v_held, v_blocked;
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
        -- lane_pick returns a lane's jobs in claim order, so their ordinality is their rank.
        select j.id, j.provider, l.row_id, l.ord, j.lane_rank
        from lane l
        cross join lateral reeld.lane_pick(l.user_id, l.job_class, v_now, l.turn::int, (select b.names from blocked b))
            with ordinality as j(id, provider, priority, run_at, lane_rank)
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
        select l.row_id, l.user_id, l.job_class, l.turn, l.depth, l.tokens_now, coalesce(f.n, 0) as found, coalesce(t.n, 0) as taken
        from lane l
        left join (select c.row_id, count(*)::int as n from candidate c group by c.row_id) f on f.row_id = l.row_id
        left join (select c.row_id, count(*)::int as n from chosen c group by c.row_id) t on t.row_id = l.row_id
    ), short as materialized (
        -- A lane that found less than its turn, or all of its depth: when is its next job due
        -- (null: it has none)? Due now means work was left (trimmed, waiting for a provider,
        -- or more than the depth said). Looking when the depth runs out, rather than at the
        -- next visit, spares a lane that was emptied a whole visit that would find nothing.
        select p.row_id, n.next_due, n.next_due <= v_now as due_left
        from per_lane p
        cross join lateral (select reeld.lane_next_due(
            p.user_id, p.job_class, array(select h.id from chosen h where h.row_id = p.row_id)) as next_due) n
        where p.found < p.turn or p.found >= p.depth
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
            due_at = case when s.row_id is null then x.due_at when s.due_left then v_now else s.next_due end
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
