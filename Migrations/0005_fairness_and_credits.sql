-- Fair share, limits, credits and workflow rules, enforced by the engine in the same
-- transactions as the job states, so that they hold across any number of reeld nodes.
--
-- Limits live in rows every node reads: tiers and their per-class limits, providers and their
-- limits and throttles, costs. Each node writes its configuration here at start
-- (reeld.apply_settings, an idempotent upsert), so the last node started decides.
--
-- The fair claim (reeld.claim_fair) serves users' jobs through lanes, one per user and job
-- class: it takes the least recently served lanes that have due work, locking them with SKIP
-- LOCKED so that two nodes never serve one lane at once, counts the lane's running jobs under
-- that lock, and takes at most a turn of up to 16 jobs that the lane's concurrency and rate
-- allow. Jobs without a user (system jobs) keep the plain claim in JobQueue.swift and are
-- unlimited.

-- MARK: Job classes and providers on the job row

-- The class a kind's limits are counted in; 'none' is not limited by class (a workflow run
-- mostly waits for its children, which are). system.noop and system.sleep take args.class, so
-- tests and benchmarks can stand in for any class without calling a provider.
alter table reeld.job_kinds
    add column job_class text not null default 'none'
        check (job_class in ('none', 'text_image', 'video', 'audio', 'render')),
    add column uses_provider boolean not null default false,
    add column class_from_args boolean not null default false;

update reeld.job_kinds set job_class = 'text_image', uses_provider = true where kind in ('text.storyboard', 'image.generate');
update reeld.job_kinds set job_class = 'video', uses_provider = true where kind = 'video.generate';
update reeld.job_kinds set job_class = 'audio', uses_provider = true where kind in ('audio.speech', 'audio.music', 'audio.sfx');
update reeld.job_kinds set job_class = 'render' where kind in ('render.edit', 'render.export');
update reeld.job_kinds set class_from_args = true where kind in ('system.noop', 'system.sleep');

-- Copied onto each job at insert so that the claim needs no join. credits_reserved is what
-- submit reserved (0: nothing); credits_used is what the work actually cost, when a handler
-- measured it (a generation's usage); a success captures the smaller of the two.
alter table public.jobs
    add column job_class text not null default 'none'
        check (job_class in ('none', 'text_image', 'video', 'audio', 'render')),
    add column provider text,
    add column credits_reserved bigint not null default 0 check (credits_reserved >= 0),
    add column credits_used bigint check (credits_used >= 0);
-- Pruning archives with `insert … select *`: the archive keeps the same columns in the same order.
alter table reeld.jobs_archive
    add column job_class text not null default 'none',
    add column provider text,
    add column credits_reserved bigint not null default 0,
    add column credits_used bigint;

-- The plain claim now serves only jobs without a user; users' jobs are claimed by lane.
drop index public.jobs_claim_idx;
-- Serves the plain claim (JobQueue.claim): claimable system jobs in claim order.
create index jobs_claim_system_idx on public.jobs (priority, run_at)
    where state in ('available', 'retryable', 'waiting') and user_id is null;
-- Serves the fair claim's per-lane pick (priority, run_at within one user and class).
create index jobs_claim_lane_idx on public.jobs (user_id, job_class, priority, run_at)
    where state in ('available', 'retryable', 'waiting') and user_id is not null;
-- Serve the running counts the fair claim takes under its locks. Both hold only running jobs
-- (a handful per lane or provider), and no system job without a provider, so the unlimited
-- path maintains neither. They and their queries say `lease_owner is not null` (running, by
-- the CHECK on jobs) rather than `state = 'running'`, which jobs_lease_idx also matches: the
-- planner took that bloated index for these counts and scanned every running job per lane.
create index jobs_running_lane_idx on public.jobs (user_id, job_class) where lease_owner is not null and user_id is not null;
create index jobs_running_provider_idx on public.jobs (provider) where lease_owner is not null and provider is not null;

-- MARK: Tiers, providers, costs (written from configuration by reeld.apply_settings)

create table reeld.tiers (
    tier public.tier primary key,
    monthly_credits bigint not null check (monthly_credits >= 0),
    max_export_height int not null check (max_export_height > 0)
);

-- Null limits are unlimited.
create table reeld.tier_limits (
    tier public.tier not null references reeld.tiers on delete cascade,
    job_class text not null check (job_class in ('text_image', 'video', 'audio', 'render')),
    max_running int check (max_running >= 0),
    per_minute int check (per_minute >= 0),
    primary key (tier, job_class)
);

-- One row per provider that has limits, is the default, or was ever throttled.
create table reeld.providers (
    name text primary key check (name ~ '^[a-z][a-z0-9_-]*$'),
    is_default boolean not null default false,
    max_running int check (max_running >= 0),
    per_minute int check (per_minute >= 0),
    -- Token bucket for per_minute: holds up to per_minute tokens, refilled continuously.
    tokens double precision not null default 0,
    refilled_at timestamptz not null default now(),
    -- A 429 stops every node from starting this provider's jobs until then.
    throttled_until timestamptz,
    -- Consecutive 429s without a Retry-After, for the provider's backoff.
    throttle_strikes int not null default 0
);
create unique index providers_one_default_idx on reeld.providers (is_default) where is_default;

-- What a kind costs, per model ('' = any model): `estimate` is reserved at submit and is the
-- most one job is charged; `per_unit` prices what a generation reports ({"video_seconds": 10}).
create table reeld.costs (
    kind text not null references reeld.job_kinds on delete cascade,
    model text not null default '',
    estimate bigint not null check (estimate >= 0),
    per_unit jsonb not null default '{}' check (jsonb_typeof(per_unit) = 'object'),
    primary key (kind, model)
);

-- MARK: Lanes: one per user and job class, the unit of fair share

create table reeld.lanes (
    user_id uuid not null references auth.users (id) on delete cascade,
    job_class text not null,
    -- The user's tier limits for this class (enterprise overrides applied); null: unlimited.
    max_running int,
    per_minute int,
    -- Token bucket for per_minute: holds up to per_minute tokens, refilled continuously.
    tokens double precision not null default 0,
    refilled_at timestamptz not null default now(),
    -- A lower bound on the earliest run_at among the lane's claimable jobs; null: it has none.
    -- Lowered by the triggers below whenever a job becomes claimable; raised only by the claim,
    -- which holds the lane's lock when it looks.
    due_at timestamptz,
    -- Round robin: the least recently served lane with due work goes first.
    served_at timestamptz not null default '-infinity',
    -- About how many claimable jobs the lane holds: a hint for how many lanes a claim needs to
    -- fill its batch, never for a limit. Raised by the triggers below, lowered by the claim,
    -- which corrects it when a lane gives less than it expected.
    depth int not null default 0,
    primary key (user_id, job_class)
);
-- Serves the claim's first step: lanes with work in round-robin order, read until enough due
-- ones are locked (a sort of all due lanes instead cost more than these index updates).
-- Not on depth: the insert trigger raises depth on every submit, and those updates stay HOT.
create index lanes_round_robin_idx on reeld.lanes (served_at) where due_at is not null;
-- Serves next_claim_at (the earliest future due_at).
create index lanes_due_idx on reeld.lanes (due_at) where due_at is not null;
-- Room for HOT updates (depth and due_at change with every submit), and vacuumed as often as
-- the job table: every claim rewrites the lanes it serves.
alter table reeld.lanes set (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01);

-- MARK: Money: balances on the subscription, movements in the ledger

alter table public.subscriptions
    -- Credits that may be reserved now: grants + purchases + adjustments − captures − open reserves.
    add column credits_balance bigint not null default 0 check (credits_balance >= 0),
    -- Sum of open reserves (reserved at submit, not yet captured or released).
    add column credits_reserved bigint not null default 0 check (credits_reserved >= 0),
    -- The month whose allowance was granted last.
    add column granted_period date;

alter table public.credit_transactions
    add column period_start date,
    -- An outside reference (a payment id) that makes a purchase or adjustment idempotent.
    add column reference text,
    add constraint credit_transactions_amount_sign check (
        case type when 'adjustment' then amount <> 0 else amount > 0 end),
    add constraint credit_transactions_grant_period check ((type = 'grant') = (period_start is not null));
-- One grant per user and month.
create unique index credit_transactions_grant_idx on public.credit_transactions (user_id, period_start)
    where type = 'grant';
create unique index credit_transactions_reference_idx on public.credit_transactions (user_id, type, reference)
    where reference is not null;

-- MARK: Effective limits

-- The limits of one lane: the user's tier (free without a subscription), with an enterprise
-- subscription's overrides ({"concurrent": {"video": 20}, "per_minute": {"video": 60}}).
create function reeld.lane_limits(p_user uuid, p_class text, out max_running int, out per_minute int)
language sql stable
as $$
    select case when p_class = 'none' then null
                else coalesce(case when s.tier = 'enterprise' then (s.limits -> 'concurrent' ->> p_class)::int end, tl.max_running) end,
           case when p_class = 'none' then null
                else coalesce(case when s.tier = 'enterprise' then (s.limits -> 'per_minute' ->> p_class)::int end, tl.per_minute) end
    from (select coalesce((select sub.tier from public.subscriptions sub where sub.user_id = p_user), 'free') as tier,
                 coalesce((select sub.limits from public.subscriptions sub where sub.user_id = p_user), '{}') as limits) s
    left join reeld.tier_limits tl on tl.tier = s.tier and tl.job_class = p_class
$$;

-- A tier's monthly allowance and largest export for one user, overrides applied.
create function reeld.user_allowance(p_user uuid, out tier public.tier, out monthly_credits bigint, out max_export_height int)
language sql stable
as $$
    select s.tier,
           coalesce(case when s.tier = 'enterprise' then (s.limits ->> 'monthly_credits')::bigint end, t.monthly_credits, 0),
           coalesce(case when s.tier = 'enterprise' then (s.limits ->> 'max_export_height')::int end, t.max_export_height, 720)
    from (select coalesce((select sub.tier from public.subscriptions sub where sub.user_id = p_user), 'free') as tier,
                 coalesce((select sub.limits from public.subscriptions sub where sub.user_id = p_user), '{}') as limits) s
    left join reeld.tiers t on t.tier = s.tier
$$;

-- A token bucket's level at p_now: up to p_per_minute tokens, refilled at p_per_minute a minute.
create function reeld.bucket_level(p_tokens double precision, p_refilled_at timestamptz, p_per_minute int, p_now timestamptz)
returns double precision
language sql immutable
as $$
    select least(p_per_minute::double precision,
                 p_tokens + greatest(extract(epoch from p_now - p_refilled_at), 0) * p_per_minute / 60.0)
$$;

-- A lane's limits follow its user's subscription.
create function reeld.subscription_changed() returns trigger
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
create trigger subscriptions_limits after insert or update of tier, limits on public.subscriptions
    for each row execute function reeld.subscription_changed();

-- MARK: Lane bookkeeping on the job table

-- A new user's job: create its lane (a new lane starts with a full bucket) or lower its due_at
-- and raise its depth. A row trigger whose WHEN is false for system jobs, so the unlimited path
-- does not pay for it; reeld.submit_job() inserts one row per call.
create function reeld.lane_after_insert() returns trigger
language plpgsql
as $$
begin
    insert into reeld.lanes as l (user_id, job_class, max_running, per_minute, tokens, due_at, depth)
    select new.user_id, new.job_class, lim.max_running, lim.per_minute, coalesce(lim.per_minute, 0), new.run_at, 1
    from reeld.lane_limits(new.user_id, new.job_class) lim
    on conflict (user_id, job_class) do update set due_at = least(l.due_at, excluded.due_at), depth = l.depth + 1;
    return null;
end
$$;
create trigger jobs_lane_after_insert after insert on public.jobs
    for each row when (new.user_id is not null and new.state in ('available', 'retryable', 'waiting'))
    execute function reeld.lane_after_insert();

-- A user's job that becomes claimable again (retry, snooze, hand-back, rescue, a wake-up that
-- moves run_at earlier) lowers its lane's due_at. The WHEN clause is false for the claim and
-- the completion, so the hot path does not pay for it.
create function reeld.lane_due() returns trigger
language plpgsql
as $$
begin
    insert into reeld.lanes as l (user_id, job_class, max_running, per_minute, tokens, due_at, depth)
    select new.user_id, new.job_class, lim.max_running, lim.per_minute, coalesce(lim.per_minute, 0), new.run_at,
           case when old.state in ('available', 'retryable', 'waiting') then 0 else 1 end
    from reeld.lane_limits(new.user_id, new.job_class) lim
    on conflict (user_id, job_class) do update set due_at = least(l.due_at, excluded.due_at), depth = l.depth + excluded.depth;
    return null;
end
$$;
create trigger jobs_lane_due after update of state, run_at on public.jobs
    for each row when (new.user_id is not null and new.state in ('available', 'retryable', 'waiting')
                       and (old.state not in ('available', 'retryable', 'waiting') or new.run_at < old.run_at))
    execute function reeld.lane_due();

-- MARK: The fair claim

create type reeld.claimed_job as (
    id uuid, kind text, project_id uuid, state public.job_state, progress real, run_at timestamptz,
    args jsonb, attempt int, max_attempts int, user_id uuid, parent_id uuid, snooze_state jsonb,
    priority smallint, created double precision);

-- Leases up to p_limit users' jobs for p_owner, fairly. Called by JobQueue.claim in the same
-- statement as the plain claim of system jobs, which takes what is left of the batch.
--
-- The first statement locks, with SKIP LOCKED, the least recently served lanes that have due
-- work (lanes_round_robin_idx) and the limited providers that are not throttled. A lane another
-- node is serving this instant is skipped, so two nodes never both take a lane's last slot; a
-- provider another node holds is blocked for this round. The second statement has a snapshot
-- taken after those locks were granted: every claim that raised a running count it reads held
-- the same lock and has committed, so its counts are exact (or high, which is safe). It counts
-- each provider's and lane's running jobs (jobs_running_provider_idx, jobs_running_lane_idx;
-- counting stops at the limit), and takes from each lane, in priority order
-- (jobs_claim_lane_idx, LATERAL, SKIP LOCKED), at most its turn: the smallest of 16, the room
-- under its concurrency and its tokens, and what is left of the batch. Jobs of blocked providers
-- (throttled, full, or held by another node) are passed over, not waited behind. Then each
-- provider is trimmed to its room and the batch to p_limit, round robin (every lane's first
-- job before any lane's second). The claim never waits for a lock, so it cannot deadlock.
--
-- A lane goes to the back of the round robin when it was served, or had no room (at its
-- concurrency limit, out of tokens): a lane at its limit never keeps the next one from being
-- looked at. A lane trimmed away, or whose due jobs all wait for a provider, keeps its place,
-- so it is first when there is room. A user's backlog is one lane, however long, so it delays
-- another user's job by at most one turn.
--
-- Turns are at most 16 jobs: when many users wait, a lane's bookkeeping is paid once per turn,
-- not per job. A claim locks up to p_limit / 4 lanes (at least 8) and serves them in order
-- until their turns fill the batch, by each lane's depth hint; so a claim for a few free slots
-- still looks past lanes at their limit, and lanes holding a few jobs each still fill it.
create function reeld.claim_fair(p_owner text, p_limit int, p_now timestamptz, p_lease double precision)
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
        -- Counted here, after the provider locks, so exact. Counting stops at the limit.
        select p.name, t.tokens_now,
               greatest(least(
                   case when p.max_running is null then p_limit
                        else p.max_running - (select count(*) from (select from public.jobs r
                                                                    where r.provider = p.name and r.lease_owner is not null
                                                                    limit p.max_running) r)::int end,
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
                        else x.max_running - (select count(*) from (select from public.jobs r
                                                                    where r.user_id = x.user_id and r.job_class = x.job_class
                                                                      and r.lease_owner is not null
                                                                    limit x.max_running) r)::int end,
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

-- When the claim may find work that is not claimable yet: the earliest future due_at of a
-- lane, the moment a rate-limited due lane gets its next token, the end of a throttle. The
-- worker waits at most this long (and at most its poll interval) after a claim that found
-- nothing. Only future moments count: work claimable now that the claim did not take is held
-- by something time does not end (a concurrency limit, another node's lock).
create function reeld.next_claim_at(p_now timestamptz) returns timestamptz
language sql stable
as $$
    select min(t.at) from (
        select min(due_at) as at from reeld.lanes where due_at > coalesce(p_now, now())
        union all
        select min(l.refilled_at + make_interval(secs => (1 - l.tokens) * 60.0 / l.per_minute))
        from reeld.lanes l where l.due_at <= coalesce(p_now, now()) and l.per_minute > 0 and l.tokens < 1
        union all
        select min(p.throttled_until) from reeld.providers p where p.throttled_until > coalesce(p_now, now())
        union all
        select min(p.refilled_at + make_interval(secs => (1 - p.tokens) * 60.0 / p.per_minute))
        from reeld.providers p where p.per_minute > 0 and p.tokens < 1
    ) t
    where t.at > coalesce(p_now, now())
$$;

-- MARK: Provider throttling

-- A provider answered 429: no node starts its jobs until Retry-After has passed, or, without
-- one, an exponential backoff over the provider's consecutive 429s (a 429 after a quiet
-- quarter of an hour starts the count again). Returns the time the throttle ends.
create function reeld.throttle_provider(p_provider text, p_now timestamptz, p_retry_after double precision,
                                        p_backoff_base double precision, p_backoff_cap double precision)
returns timestamptz
language plpgsql
as $$
declare
    v_now timestamptz := coalesce(p_now, now());
    v_until timestamptz;
begin
    if p_provider is null then
        return null;
    end if;
    insert into reeld.providers as p (name, throttled_until, throttle_strikes)
    values (p_provider, v_now + make_interval(secs => coalesce(p_retry_after, p_backoff_base)), 1)
    on conflict (name) do update set
        throttle_strikes = case when p.throttled_until is null or p.throttled_until < v_now - interval '15 minutes' then 1
                                else p.throttle_strikes + 1 end,
        throttled_until = greatest(coalesce(p.throttled_until, v_now), v_now + make_interval(secs => coalesce(
            p_retry_after,
            least(p_backoff_cap, p_backoff_base * 2 ^ least(
                case when p.throttled_until is null or p.throttled_until < v_now - interval '15 minutes' then 0
                     else p.throttle_strikes end, 30)))))
    returning throttled_until into v_until;
    return v_until;
end
$$;

-- MARK: Credits

create type reeld.credit_settlement as (job_id uuid, user_id uuid, reserved bigint, captured bigint);

-- The user's subscription row, created (free tier) if missing and locked, with this month's
-- allowance granted if it was not yet: one grant per user and month, whoever asks first.
create function reeld.credit_account(p_user uuid, p_now timestamptz default null) returns public.subscriptions
language plpgsql
as $$
declare
    v_period date := date_trunc('month', coalesce(p_now, now()) at time zone 'UTC')::date;
    s public.subscriptions;
    a record;
begin
    insert into public.subscriptions (user_id) values (p_user) on conflict (user_id) do nothing;
    select * into s from public.subscriptions where user_id = p_user for update;
    if s.granted_period is null or s.granted_period < v_period then
        select * into a from reeld.user_allowance(p_user);
        if a.monthly_credits > 0 then
            insert into public.credit_transactions (user_id, type, amount, period_start, note)
            values (p_user, 'grant', a.monthly_credits, v_period, format('monthly allowance (%s) for %s', a.tier, to_char(v_period, 'YYYY-MM')))
            on conflict (user_id, period_start) where type = 'grant' do nothing;
            if found then
                s.credits_balance := s.credits_balance + a.monthly_credits;
            end if;
        end if;
        update public.subscriptions
        set credits_balance = s.credits_balance, granted_period = v_period,
            current_period_start = v_period::timestamp at time zone 'UTC'
        where user_id = p_user
        returning * into s;
    end if;
    return s;
end
$$;

-- Credits bought (or added by support): +amount. p_reference (a payment id) makes it
-- idempotent: the same reference again changes nothing and returns false.
create function reeld.credit_purchase(p_user uuid, p_amount bigint, p_reference text default null, p_note text default null)
returns boolean
language plpgsql
as $$
begin
    if p_amount is null or p_amount <= 0 then
        raise exception using errcode = '22023', message = format('amount: a purchase adds credits (got %s)', p_amount);
    end if;
    perform reeld.credit_account(p_user);
    insert into public.credit_transactions (user_id, type, amount, reference, note)
    values (p_user, 'purchase', p_amount, p_reference, p_note)
    on conflict (user_id, type, reference) where reference is not null do nothing;
    if not found then
        return false;
    end if;
    update public.subscriptions set credits_balance = credits_balance + p_amount where user_id = p_user;
    return true;
end
$$;

-- A correction by support, either way; it cannot take the balance below zero.
create function reeld.credit_adjust(p_user uuid, p_amount bigint, p_reference text default null, p_note text default null)
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
    insert into public.credit_transactions (user_id, type, amount, reference, note)
    values (p_user, 'adjustment', p_amount, p_reference, p_note)
    on conflict (user_id, type, reference) where reference is not null do nothing;
    if not found then
        return false;
    end if;
    update public.subscriptions set credits_balance = credits_balance + p_amount where user_id = p_user;
    return true;
end
$$;

-- Ends reservations, in the statement that ends their jobs: a success captures `captured`
-- (at most the reserve) and releases the rest; a failure or a cancel (captured null) releases
-- it all. Idempotent per job: a job whose reserve was already settled is skipped, so a retried
-- job (its reserve released when it failed) is not charged from a reserve it no longer holds.
-- Subscriptions are locked in user order so that concurrent settlements cannot deadlock.
create function reeld.settle_credits(p_moves reeld.credit_settlement[]) returns int
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

-- What a kind is estimated to cost for a model: reserved at submit, the most it is charged.
create function reeld.estimate_credits(p_kind text, p_model text) returns bigint
language sql stable
as $$
    select coalesce((select c.estimate from reeld.costs c
                     where c.kind = p_kind and c.model in (coalesce(p_model, ''), '')
                     order by c.model = '' limit 1), 0)
$$;

-- What a generation's usage costs: units × the price of its unit for the kind and model. A unit
-- the costs do not price is charged the estimate, the most the job was allowed to cost.
create function reeld.usage_credits(p_kind text, p_model text, p_unit text, p_units double precision) returns bigint
language sql stable
as $$
    select coalesce(
        -- Rounded to a millionth before rounding up, so that 4.2 s at 10 a second is 42, not 43.
        (select case when c.per_unit ? p_unit
                     then ceil(round((greatest(p_units, 0) * (c.per_unit ->> p_unit)::double precision)::numeric, 6))::bigint
                     else c.estimate end
         from reeld.costs c
         where c.kind = p_kind and c.model in (coalesce(p_model, ''), '')
         order by c.model = '' limit 1), 0)
$$;

-- MARK: Workflow rules

-- The workflow step a job works on, from its kind and, for images, its role.
create function reeld.job_step(p_kind text, p_args jsonb) returns public.workflow_step
language sql immutable
as $$
    select case p_kind
        when 'text.storyboard' then 'storyboard'
        when 'image.generate' then case p_args ->> 'role' when 'hero' then 'hero_shot'
                                                          when 'start_frame' then 'frames'
                                                          when 'end_frame' then 'frames' end
        when 'video.generate' then 'clips'
        when 'audio.speech' then 'audio'
        when 'audio.music' then 'audio'
        when 'audio.sfx' then 'audio'
        when 'render.edit' then 'edit'
        when 'render.export' then 'export'
    end::public.workflow_step
$$;

-- A uuid argument, or an error naming it.
create function reeld.uuid_arg(p_args jsonb, p_key text) returns uuid
language plpgsql immutable
as $$
begin
    if p_args -> p_key is null or jsonb_typeof(p_args -> p_key) = 'null' then
        return null;
    end if;
    return (p_args ->> p_key)::uuid;
exception when invalid_text_representation then
    raise exception using errcode = '22023', message = format('args.%s: expected a uuid', p_key);
end
$$;

-- Refuses a job whose earlier workflow steps have not produced what it needs, naming the
-- missing step: idea → storyboard → hero_shot → frames → clips → audio → edit → export.
create function reeld.check_workflow(p_kind text, p_args jsonb, p_project uuid) returns void
language plpgsql stable
as $$
declare
    v_step public.workflow_step := reeld.job_step(p_kind, p_args);
    v_scene uuid;
    v_missing public.workflow_step;
    v_detail text;
begin
    if v_step is null or p_project is null or v_step = 'storyboard' then
        return;
    end if;
    if not exists (select from public.projects where id = p_project and storyboard is not null) then
        v_missing := 'storyboard';
        v_detail := 'the project has no storyboard yet';
    elsif v_step = 'frames' then
        v_scene := reeld.uuid_arg(p_args, 'scene_id');
        if v_scene is null then
            raise exception using errcode = '22023', message = format('args.scene_id: required for an image with role %s', p_args ->> 'role');
        elsif not exists (select from public.scenes where id = v_scene and project_id = p_project) then
            v_missing := 'storyboard';
            v_detail := format('scene %s is not one of the project''s scenes', v_scene);
        elsif not exists (select from public.assets where project_id = p_project and role = 'hero') then
            v_missing := 'hero_shot';
            v_detail := 'the project has no hero shot';
        end if;
    elsif v_step = 'clips' then
        v_scene := reeld.uuid_arg(p_args, 'scene_id');
        if v_scene is not null and not exists (select from public.scenes where id = v_scene and project_id = p_project) then
            v_missing := 'storyboard';
            v_detail := format('scene %s is not one of the project''s scenes', v_scene);
        elsif reeld.uuid_arg(p_args, 'start_asset_id') is not null then
            if not exists (select from public.assets where id = reeld.uuid_arg(p_args, 'start_asset_id')
                           and project_id = p_project and kind = 'image') then
                v_missing := 'frames';
                v_detail := format('start frame %s is not an image of this project', p_args ->> 'start_asset_id');
            end if;
        elsif v_scene is not null and not exists (
                select from public.assets where project_id = p_project and scene_id = v_scene and role = 'start_frame') then
            v_missing := 'frames';
            v_detail := format('scene %s has no start frame', (select index + 1 from public.scenes where id = v_scene));
        end if;
    elsif v_step = 'edit' then
        if not exists (select from public.scenes where project_id = p_project) then
            v_missing := 'storyboard';
            v_detail := 'the project has no scenes';
        else
            select format('scene %s has no clip', s.index + 1) into v_detail
            from public.scenes s
            where s.project_id = p_project
              and not exists (select from public.assets a where a.project_id = p_project and a.scene_id = s.id and a.role = 'clip')
            order by s.index limit 1;
            if v_detail is not null then
                v_missing := 'clips';
            end if;
        end if;
    elsif v_step = 'export' then
        if reeld.uuid_arg(p_args, 'timeline_asset_id') is not null then
            if not exists (select from public.assets where id = reeld.uuid_arg(p_args, 'timeline_asset_id')
                           and project_id = p_project and kind = 'timeline') then
                v_missing := 'edit';
                v_detail := format('asset %s is not a timeline of this project', p_args ->> 'timeline_asset_id');
            end if;
        elsif not exists (select from public.assets where project_id = p_project and kind = 'timeline' and role = 'timeline') then
            v_missing := 'edit';
            v_detail := 'the project has no timeline';
        end if;
    end if;
    if v_missing is not null then
        raise exception using errcode = '22023',
            message = format('workflow: %s (step %s) needs step %s first: %s', p_kind, v_step, v_missing, v_detail);
    end if;
end
$$;

-- Regenerating an earlier step marks the later completed steps of the project stale; their
-- assets stay. Runs when a project job completes; the WHEN clause keeps it off other jobs.
create function reeld.mark_later_steps_stale() returns trigger
language plpgsql
as $$
declare
    v_step public.workflow_step := reeld.job_step(new.kind, new.args);
begin
    if v_step is not null then
        update public.workflow_steps set state = 'stale', updated_at = now()
        where project_id = new.project_id and step > v_step and state = 'completed';
    end if;
    return null;
end
$$;
create trigger jobs_mark_later_steps_stale after update of state on public.jobs
    for each row when (new.state = 'completed' and old.state is distinct from new.state
                       and new.project_id is not null and new.job_class <> 'none')
    execute function reeld.mark_later_steps_stale();

-- Progress per project and step, readable by the project's owner (RLS of workflow_steps applies).
create view public.workflow_progress with (security_invoker = true) as
select ws.project_id, ws.user_id, ws.step, ws.state, ws.job_count, ws.jobs_done,
       case when ws.state = 'completed' then 1.0
            when ws.job_count > 0 then round(ws.jobs_done::numeric / ws.job_count, 3)
            else 0.0 end as fraction,
       ws.error, ws.started_at, ws.finished_at, ws.updated_at
from public.workflow_steps ws;
grant select on public.workflow_progress to authenticated, service_role;

-- MARK: Settings from configuration

-- Writes a node's configuration of tiers, provider limits and costs (JSON built by
-- JobQueue.applySettings), then brings every lane's limits up to date. Idempotent; safe from
-- several nodes at once (they take turns on an advisory lock); callable again on reload.
create function reeld.apply_settings(p_settings jsonb) returns void
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

    delete from reeld.costs c
    where not exists (select from jsonb_array_elements(p_settings -> 'costs') e
                      where e ->> 'kind' = c.kind and coalesce(e ->> 'model', '') = c.model);
    insert into reeld.costs as c (kind, model, estimate, per_unit)
    select e ->> 'kind', coalesce(e ->> 'model', ''), (e ->> 'estimate')::bigint, coalesce(e -> 'per_unit', '{}')
    from jsonb_array_elements(p_settings -> 'costs') e
    on conflict (kind, model) do update set estimate = excluded.estimate, per_unit = excluded.per_unit
    where (c.estimate, c.per_unit) is distinct from (excluded.estimate, excluded.per_unit);

    -- Lanes in key order, like every other statement that locks several.
    perform 1 from reeld.lanes order by user_id, job_class for update;
    update reeld.lanes l set max_running = f.max_running, per_minute = f.per_minute,
                             tokens = least(l.tokens, coalesce(f.per_minute, 0))
    from (select x.user_id, x.job_class, lim.max_running, lim.per_minute
          from reeld.lanes x cross join lateral reeld.lane_limits(x.user_id, x.job_class) lim) f
    where l.user_id = f.user_id and l.job_class = f.job_class
      and (l.max_running, l.per_minute) is distinct from (f.max_running, f.per_minute);
end
$$;

-- The defaults config/reeld.toml documents, so that a database is usable before any node has
-- started; a node's apply_settings replaces them.
insert into reeld.tiers (tier, monthly_credits, max_export_height) values
    ('free', 1000, 720), ('pro', 20000, 1080), ('enterprise', 200000, 2160);
insert into reeld.tier_limits (tier, job_class, max_running, per_minute) values
    ('free', 'text_image', 2, 20), ('free', 'video', 1, 4), ('free', 'audio', 2, 10), ('free', 'render', 1, 4),
    ('pro', 'text_image', 8, 120), ('pro', 'video', 4, 30), ('pro', 'audio', 8, 60), ('pro', 'render', 2, 20),
    ('enterprise', 'text_image', 32, 600), ('enterprise', 'video', 16, 120), ('enterprise', 'audio', 32, 300),
    ('enterprise', 'render', 8, 60);
insert into reeld.providers (name, is_default) values ('local', true);
insert into reeld.costs (kind, estimate, per_unit) values
    ('text.storyboard', 5, '{"tokens": 0.002}'),
    ('image.generate', 10, '{"images": 10}'),
    ('video.generate', 100, '{"video_seconds": 10}'),
    ('audio.speech', 20, '{"characters": 0.01}'),
    ('audio.music', 30, '{"audio_seconds": 0.5}'),
    ('audio.sfx', 5, '{"audio_seconds": 0.5}'),
    ('render.export', 10, '{}');

-- MARK: The one way in, now with prerequisites, credits, classes and providers

create or replace function reeld.submit_job(
    p_kind text,
    p_args jsonb default '{}',
    p_user_id uuid default null,
    p_project_id uuid default null,
    p_idempotency_key text default null,
    p_priority int default 100,
    p_run_at timestamptz default null,
    p_max_attempts int default null,
    p_parent_id uuid default null,
    out job_id uuid,
    out created boolean
)
language plpgsql
as $$
declare
    k reeld.job_kinds;
    owner uuid;
    arg text;
    v_class text;
    v_provider text;
    v_estimate bigint := 0;
    v_account public.subscriptions;
    v_height int;
    v_allowance record;
begin
    select * into k from reeld.job_kinds where kind = p_kind;
    if not found then
        raise exception using errcode = '22023', message = format('kind: unknown job kind "%s"', p_kind);
    end if;
    if p_args is null or jsonb_typeof(p_args) <> 'object' then
        raise exception using errcode = '22023', message = 'args: expected a JSON object';
    end if;
    foreach arg in array k.required_args loop
        if not p_args ? arg then
            raise exception using errcode = '22023', message = format('args.%s: required for kind %s', arg, p_kind);
        end if;
    end loop;
    if p_priority is null or p_priority not between 0 and 1000 then
        raise exception using errcode = '22023', message = format('priority: expected 0…1000, got %s', p_priority);
    end if;
    if p_max_attempts is not null and p_max_attempts not between 1 and 100 then
        raise exception using errcode = '22023', message = format('max_attempts: expected 1…100, got %s', p_max_attempts);
    end if;
    if p_idempotency_key is not null and (length(p_idempotency_key) = 0 or length(p_idempotency_key) > 255) then
        raise exception using errcode = '22023', message = 'idempotency_key: expected 1…255 characters';
    end if;
    if p_user_id is not null and not exists (select from auth.users where id = p_user_id) then
        raise exception using errcode = '22023', message = format('user_id: no user %s', p_user_id);
    end if;
    if p_project_id is not null then
        select user_id into owner from public.projects where id = p_project_id;
        if not found then
            raise exception using errcode = '22023', message = format('project_id: no project %s', p_project_id);
        end if;
        if p_user_id is null then
            p_user_id := owner;
        elsif p_user_id <> owner then
            raise exception using errcode = '22023', message = 'project_id: project belongs to another user';
        end if;
    elsif k.needs_project then
        raise exception using errcode = '22023', message = format('project_id: required for kind %s', p_kind);
    end if;

    -- A replayed submit returns its job, whatever has changed since: it reserves nothing again
    -- and is not held to prerequisites that its first submit met.
    if p_idempotency_key is not null then
        select j.id into job_id from public.jobs j
        where j.idempotency_key = p_idempotency_key and j.user_id is not distinct from p_user_id;
        if found then
            created := false;
            return;
        end if;
    end if;

    v_class := k.job_class;
    if k.class_from_args and p_args ? 'class' then
        v_class := p_args ->> 'class';
        if v_class is null or v_class not in ('none', 'text_image', 'video', 'audio', 'render') then
            raise exception using errcode = '22023',
                message = format('args.class: expected one of none, text_image, video, audio, render, got %s', p_args -> 'class');
        end if;
    end if;
    if p_args ? 'provider' then
        v_provider := p_args ->> 'provider';
        if v_provider is null or v_provider !~ '^[a-z][a-z0-9_-]*$' then
            raise exception using errcode = '22023', message = format('args.provider: expected a provider name, got %s', p_args -> 'provider');
        end if;
    elsif k.uses_provider then
        select name into v_provider from reeld.providers where is_default;
    end if;

    if p_project_id is not null and reeld.job_step(p_kind, p_args) is not null then
        perform reeld.check_workflow(p_kind, p_args, p_project_id);
    end if;

    if p_user_id is not null then
        if p_kind = 'render.export' and p_args ? 'height' then
            if jsonb_typeof(p_args -> 'height') <> 'number' or (p_args ->> 'height') !~ '^[0-9]+$' then
                raise exception using errcode = '22023', message = 'args.height: expected a whole number of pixels';
            end if;
            v_height := (p_args ->> 'height')::int;
            select * into v_allowance from reeld.user_allowance(p_user_id);
            if v_height > v_allowance.max_export_height then
                raise exception using errcode = '22023', message = format(
                    'args.height: the %s tier exports at most %sp (asked for %sp)', v_allowance.tier, v_allowance.max_export_height, v_height);
            end if;
        end if;
        v_estimate := reeld.estimate_credits(p_kind, p_args ->> 'model');
        if v_estimate > 0 then
            -- Locks the user's balance before the job row (and its lane) is written: every
            -- statement that holds both takes the balance first.
            v_account := reeld.credit_account(p_user_id);
            if v_account.credits_balance < v_estimate then
                raise exception using errcode = '22023', message = format(
                    'credits: %s needs %s credits but the balance is %s (%s reserved by queued jobs); buy credits or wait for the monthly allowance',
                    p_kind, v_estimate, v_account.credits_balance, v_account.credits_reserved);
            end if;
        end if;
    end if;

    insert into public.jobs (kind, args, user_id, project_id, idempotency_key, priority, run_at, max_attempts, parent_id,
                             job_class, provider, credits_reserved)
    values (p_kind, p_args, p_user_id, p_project_id, p_idempotency_key, p_priority,
            coalesce(p_run_at, now()), coalesce(p_max_attempts, k.max_attempts), p_parent_id,
            v_class, v_provider, v_estimate)
    on conflict (user_id, idempotency_key) where idempotency_key is not null do nothing
    returning id into job_id;

    if job_id is not null then
        created := true;
        if v_estimate > 0 then
            insert into public.credit_transactions (user_id, job_id, type, amount, note)
            values (p_user_id, job_id, 'reserve', v_estimate, p_kind);
            update public.subscriptions
            set credits_balance = credits_balance - v_estimate, credits_reserved = credits_reserved + v_estimate
            where user_id = p_user_id;
        end if;
    else
        -- A concurrent submit with this key won; ON CONFLICT waited for it to commit.
        select j.id into job_id from public.jobs j
        where j.idempotency_key = p_idempotency_key and j.user_id is not distinct from p_user_id;
        created := false;
    end if;
end
$$;

grant all on all tables in schema reeld to service_role;
grant select on public.workflow_progress to service_role;
revoke execute on function reeld.submit_job from public;
grant execute on function reeld.submit_job to service_role;
