-- reeld.claim_fair: leases up to p_limit users' jobs to p_owner, fairly, in one statement
-- (after a first step that picks the lanes). Called by reeld.claim, which fills what is left of
-- the batch with system jobs.
--
-- Promises. Users' jobs are served through lanes (one per user and job class) round robin: the
-- least recently served lanes with due work go first, each gives at most a turn (the smallest
-- of 16, its depth hint, the room under its concurrency limit and its token bucket, and what
-- is left of the batch); where a provider's room trims the batch, every lane's first job on
-- that provider comes before any lane's second. A user's backlog is one lane, however long,
-- so it delays another user's job by at most one turn. A lane goes to the back when it was
-- served, had no room, or found nothing it could start (its due jobs all wait for a full or
-- throttled provider); a lane trimmed away, or whose jobs lost to other lanes' for a
-- provider's last room, keeps its place. A lane that got nothing never holds back the lanes
-- behind it: while the batch is not full, the claim goes on to the next lanes in round-robin
-- order (in rounds, up to the cursor's limit of lanes). Tier and provider limits
-- (concurrency, rate, throttle) hold exactly across all nodes: running counts are started
-- (raised under the row's lock, exact) less ended (may lag, so high, never low); a provider's
-- count is made exact whenever its limit is set or changed (reeld.apply_settings, which the
-- claim's shared advisory lock keeps from running while a claim is in flight). Jobs of a
-- blocked provider are passed over, not waited behind.
--
-- Lock order. 0. The settings' advisory lock, shared (reeld.apply_settings takes it
-- exclusively, before anything else, too). 1. Lanes, in round-robin order, FOR UPDATE SKIP
-- LOCKED, fetched one at a time until their turns could fill what is left of the batch (a lane
-- another node is serving is passed over); a further round fetches more from the same cursor.
-- 2. Each chosen lane's jobs, FOR UPDATE SKIP LOCKED. 3. Last, the limited providers the claim
-- started jobs on, in name order, waiting: after everything else the statement writes, so a
-- concurrent claim waits only for the counters' update and the commit. Provider room is read
-- from the snapshot without a lock; if a claim that committed meanwhile took that room, the
-- counters show it, reeld.provider_room_check raises RD001, the subtransaction is undone and
-- the claim runs once more holding every limited provider's row from the start (name order).
-- Claims never wait for each other crosswise, so they cannot deadlock; every other statement
-- that locks lanes and providers takes lanes first too (docs/fair-share.md, "Lock order").
--
-- Indexes. Lanes: lanes_round_robin_idx (step 1), by ctid after. A lane's jobs, and a short
-- lane's next due job: the ordered walk of jobs_claim_lane_idx; the function runs with
-- enable_sort off so that this walk is the only plan for them (the sorts with no other plan
-- are still made), and with JIT off, which those sorts' disabled cost would set off. Counters:
-- lane_ends_pkey, provider_ends_pkey; jobs and providers by primary key.
create or replace function reeld.claim_fair(p_owner text, p_limit int, p_now timestamptz, p_lease double precision)
returns setof reeld.claimed_job
language plpgsql
set enable_sort = off
set jit = off
as $$
declare
    v_now timestamptz := coalesce(p_now, now());
    v_lanes tid[] := '{}';
    v_lane record;
    v_due refcursor;
    v_could int := 0;
    v_limited text[];
    v_blocked text[];
    v_locked boolean := false;
    -- What is left of the batch, what the claim has taken, and whether the cursor may hold more lanes.
    v_left int;
    v_taken int := 0;
    v_got int;
    v_more boolean := true;
    -- This claim's lease token (see 0003_jobs.sql): one per claim, since a claim takes a job at
    -- most once, so no other attempt of any job holds it.
    v_token uuid := gen_random_uuid();
begin
    if p_limit is null or p_limit < 1 then
        return;
    end if;
    -- Settings are not changed while this claim is in flight (see the header): a limit set
    -- meanwhile would miss the jobs this claim starts uncounted.
    perform pg_advisory_xact_lock_shared(7365747469);
    -- The least recently served due lanes, locked one by one (SKIP LOCKED: a lane another node
    -- is serving this instant is passed over) until their turns could fill the batch, so that
    -- a claim locks and rewrites the lanes it serves and few more. One FETCH per lane, not a
    -- FOR loop: a FOR loop over a query fetches ten rows at a time, and here each row fetched
    -- is a lane locked, so it would lock up to nine lanes it does not serve.
    open v_due for
        select l.ctid, l.depth from reeld.lanes l
        where l.due_at <= v_now
        order by l.served_at
        limit greatest(ceil(p_limit / 4.0)::int, 8)
        for update skip locked;
    -- Rounds: when the lanes of a round gave less than their turns promised (a lane whose jobs
    -- all wait for a full provider gives nothing, however deep), the next lanes fill the rest.
    <<rounds>>
    loop
        v_left := p_limit - v_taken;
        v_lanes := '{}';
        v_could := 0;
        loop
            fetch v_due into v_lane;
            if not found then
                v_more := false;
                exit;
            end if;
            v_lanes := v_lanes || v_lane.ctid;
            v_could := v_could + least(16, greatest(v_lane.depth, 1));
            exit when v_could >= v_left;
        end loop;
        exit rounds when cardinality(v_lanes) = 0;
        loop
            if v_locked then
                -- The second try (see the header): the limited providers' rows are held
                -- from here to commit, so the room read below is exact.
                perform from reeld.providers p
                where p.max_running is not null or p.per_minute is not null
                order by p.name
                for update;
            end if;
            -- The limited providers that are not throttled, whose room the claim reads; the
            -- throttled ones are blocked.
            select coalesce(array_agg(p.name) filter (where (p.max_running is not null or p.per_minute is not null)
                                                        and (p.throttled_until is null or p.throttled_until <= v_now)), '{}'),
                   coalesce(array_agg(p.name) filter (where p.throttled_until > v_now), '{}')
            into v_limited, v_blocked
            from reeld.providers p;
            begin
                return query
                with provider_room as materialized (
                    -- Read without a lock: a concurrent claim may raise started before this one commits,
                    -- which the check at the end catches. ended may lag, which is safe.
                    select p.name, t.tokens_now,
                           greatest(least(
                               case when p.max_running is null then v_left
                                    else p.max_running - (p.started - coalesce((select e.ended from reeld.provider_ends e
                                                                                where e.name = p.name), 0))::int end,
                               case when p.per_minute is null then v_left else floor(t.tokens_now)::int end), 0) as room
                    from reeld.providers p
                    cross join lateral (select reeld.bucket_level(p.tokens, p.refilled_at, p.per_minute, v_now) as tokens_now) t
                    where p.name = any(v_limited)
                ), blocked as materialized (
                    -- A provider without room is passed over, so that its jobs do not take lanes' turns.
                    select v_blocked || coalesce(array_agg(r.name) filter (where r.room <= 0), '{}') as names from provider_room r
                ), locked as (
                    -- By ctid: this claim holds the lanes' locks, so nobody has moved them since step 1.
                    -- first_turn: what the lane could give: at most 16 jobs, its room, about its depth.
                    select o.row_id, x.user_id, x.job_class, o.n as ord, x.per_minute, x.depth, t.tokens_now,
                           least(16, greatest(x.depth, 1), greatest(least(
                               case when x.max_running is null then v_left
                                    else x.max_running - (x.started - coalesce((select e.ended from reeld.lane_ends e
                                                                                where e.user_id = x.user_id and e.job_class = x.job_class), 0))::int end,
                               case when x.per_minute is null then v_left else floor(t.tokens_now)::int end), 0)) as first_turn
                    from unnest(v_lanes) with ordinality as o(row_id, n)
                    cross join lateral (select * from reeld.lanes l where l.ctid = o.row_id) x
                    cross join lateral (select reeld.bucket_level(x.tokens, x.refilled_at, x.per_minute, v_now) as tokens_now) t
                ), lane as (
                    -- In round-robin order, the lanes whose turns fill the batch (the last one's turn cut to
                    -- fit); the lanes after them were locked but are left as they were.
                    select k.*, least(k.first_turn, v_left - (k.filled - k.first_turn)) as turn
                    from (select l.*, sum(l.first_turn) over (order by l.ord) as filled from locked l) k
                    where k.filled - k.first_turn < v_left
                ), candidate as (
                    -- Each lane's jobs in claim order, locked, read inline (see the header).
                    -- lane_rank numbers them in the order the subquery returns them, which is that
                    -- order: nothing between the ordered scan and the numbering reorders rows.
                    select j.id, j.provider, l.row_id, l.ord, j.lane_rank
                    from lane l
                    cross join blocked b
                    cross join lateral (
                        select p.id, p.provider, row_number() over () as lane_rank
                        from (select c.id, c.provider from public.jobs c
                              where c.user_id = l.user_id and c.job_class = l.job_class
                                and c.state in ('available', 'retryable', 'waiting') and c.run_at <= v_now
                                and (c.provider is null or not (c.provider = any(b.names)))
                              order by c.priority, c.run_at
                              limit l.turn
                              for update skip locked) p
                    ) j
                    where l.turn > 0
                ), chosen as (
                    -- Every candidate, and whether it is picked. The lanes' turns add up to at most
                    -- v_left, so nothing here trims the batch but a provider's room. When every
                    -- limited provider has room for a whole batch (the usual case), every candidate is
                    -- picked, without the ranking's two sorts.
                    select c.id, c.row_id, c.provider, true as picked from candidate c
                    where (select coalesce(min(pr.room), v_left) from provider_room pr) >= v_left
                    union all
                    -- Otherwise each provider's jobs in round-robin order, up to its room.
                    select r.id, r.row_id, r.provider, (pr.name is null or r.provider_rank <= pr.room) as picked
                    from (select c.*, row_number() over (partition by c.provider order by c.lane_rank, c.ord) as provider_rank
                          from candidate c) r
                    left join provider_room pr on pr.name = r.provider
                    where (select coalesce(min(pr.room), v_left) from provider_room pr) < v_left
                ), claimed as (
                    update public.jobs j
                    set state = 'running',
                        attempt = case when j.state = 'waiting' then greatest(j.attempt, 1) else j.attempt + 1 end,
                        lease_owner = p_owner, lease_token = v_token,
                        lease_expires_at = v_now + make_interval(secs => p_lease),
                        attempted_at = v_now,
                        wake_requested = false
                    -- By an array of ids, as in reeld.claim.
                    where j.id = any(array(select c.id from chosen c where c.picked))
                    returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at, j.args, j.attempt, j.max_attempts,
                              j.user_id, j.parent_id, j.snooze_state, j.priority, extract(epoch from j.created_at)::double precision as created,
                              j.lease_token, j.provider
                ), per_lane as materialized (
                    -- What each lane found and what was taken from it, in one pass over chosen.
                    select l.row_id, l.user_id, l.job_class, l.turn, l.depth, l.tokens_now,
                           coalesce(t.found, 0) as found, coalesce(t.taken, 0) as taken, coalesce(t.taken_ids, '{}') as taken_ids
                    from lane l
                    left join (select c.row_id, count(*)::int as found, (count(*) filter (where c.picked))::int as taken,
                                      array_agg(c.id) filter (where c.picked) as taken_ids
                               from chosen c group by c.row_id) t on t.row_id = l.row_id
                ), short as materialized (
                    -- A lane that found less than its turn, or all of its depth: when is its next job due
                    -- (null: it has none)? Due now means work was left (trimmed, waiting for a provider,
                    -- or more than the depth said). Looking when the depth runs out, rather than at the
                    -- next visit, spares a lane that was emptied a whole visit that would find nothing.
                    select p.row_id, n.next_due, n.next_due <= v_now as due_left
                    from per_lane p
                    cross join lateral (
                        -- The earliest claimable job left, other than the ones this claim has just
                        -- taken (its snapshot still shows them claimable), read in claim order.
                        select min(s.run_at) as next_due from (
                            select c.run_at from public.jobs c
                            where c.user_id = p.user_id and c.job_class = p.job_class
                              and c.state in ('available', 'retryable', 'waiting')
                              and c.id <> all(p.taken_ids)
                            order by c.priority, c.run_at
                            offset 0) s
                    ) n
                    where p.found < p.turn or p.found >= p.depth
                ), lanes_served as (
                    update reeld.lanes x
                    -- The wall clock, not v_now (which tests may freeze): only its order matters.
                    -- A lane that found nothing it could start goes to the back as well: left in front, it
                    -- would be every claim's first visit for as long as its provider stays full.
                    set served_at = case when p.taken > 0 or p.turn = 0 or p.found = 0 then clock_timestamp() else x.served_at end,
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
                ), published as (
                    select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change)) as n
                    from claimed c
                ), wake as (
                    -- Other nodes may have found these lanes locked and gone idle: wake them on commit.
                    select case when bool_or(s.left_behind) or count(*) < cardinality(v_lanes) then pg_notify('reeld_jobs', '') end as notified
                    from lanes_served s
                ), provider_lock as (
                    -- The limited providers this claim started jobs on, locked in name order (two claims
                    -- never wait for each other crosswise) and only now, after everything else this
                    -- statement writes (the two one-time conditions run published and wake, and with
                    -- it lanes_served, first), so that a concurrent claim waits for them only for the
                    -- counters' update and the commit.
                    select p.name from reeld.providers p
                    where (select count(*) from published) >= 0 and (select count(*) from wake) >= 0
                      and p.name = any(v_limited) and p.name in (select c.provider from claimed c)
                    order by p.name
                    for update
                ), providers_used as (
                    -- Raised on each row's latest version (a claim that committed since this statement's
                    -- snapshot is counted), and checked: over means that claim took room this one read.
                    update reeld.providers p
                    set tokens = case when p.per_minute is null then 0
                                      else reeld.bucket_level(p.tokens, p.refilled_at, p.per_minute, v_now) - u.n end,
                        started = p.started + u.n,
                        refilled_at = greatest(p.refilled_at, v_now)
                    from (select c.provider, count(*)::int as n from claimed c group by c.provider) u
                    join provider_lock l on l.name = u.provider
                    where p.name = u.provider
                    returning (p.max_running is not null
                               and p.started - coalesce((select e.ended from reeld.provider_ends e where e.name = p.name), 0) > p.max_running)
                           or (p.per_minute is not null and p.tokens < -1e-9) as over
                )
                -- The check is a one-time filter, evaluated before the first row is returned: a try
                -- that is rolled back has returned nothing.
                select c.id, c.kind, c.project_id, c.state, c.progress, c.run_at, c.args, c.attempt, c.max_attempts,
                       c.user_id, c.parent_id, c.snooze_state, c.priority, c.created, c.lease_token, c.provider
                from claimed c, published, (select count(*) from wake) w
                where (select reeld.provider_room_check(coalesce(bool_or(u.over), false)) from providers_used u) = 0;
                get diagnostics v_got = row_count;
                v_taken := v_taken + v_got;
                exit;
            exception when sqlstate 'RD001' then
                -- Rare (see the header). The lanes stay locked (they were locked before
                -- this block); everything else this try did is undone.
                if v_locked then
                    raise;
                end if;
                v_locked := true;
            end;
        end loop;
        exit rounds when v_taken >= p_limit or not v_more;
    end loop rounds;
    close v_due;
end
$$;
