-- Fair share, limits and credits, enforced by the engine in the same transactions as the job
-- states, so that they hold across any number of reeld nodes.
--
-- Limits live in rows every node reads: tiers and their per-class limits, providers and their
-- limits and throttles, costs. Each node writes its configuration here at start
-- (reeld.apply_settings, an idempotent upsert), so the last node started decides. Users' jobs
-- are claimed through lanes, one per user and job class (functions/claim_fair.sql); jobs
-- without a user (system jobs) are unlimited.

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
    throttle_strikes int not null default 0,
    -- Attempts of users' jobs started on this provider, ever (see running counts below).
    started bigint not null default 0
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
    -- Lowered by the job triggers whenever a job becomes claimable; raised only by the claim,
    -- which holds the lane's lock when it looks.
    due_at timestamptz,
    -- Round robin: the least recently served lane with due work goes first.
    served_at timestamptz not null default '-infinity',
    -- About how many claimable jobs the lane holds: a hint for how many lanes a claim needs to
    -- fill its batch, never for a limit. Raised by the job triggers, lowered by the claim,
    -- which corrects it when a lane gives less than it expected.
    depth int not null default 0,
    -- Attempts of the lane's jobs started, ever (see running counts below).
    started bigint not null default 0,
    primary key (user_id, job_class)
);
-- Serves the claim's first step: lanes with work in round-robin order, read until enough due
-- ones are locked. Not on depth: every submit raises depth, and those updates stay HOT.
create index lanes_round_robin_idx on reeld.lanes (served_at) where due_at is not null;
-- Serves next_claim_at (the earliest future due_at) and reeld.claim's probe for a due lane.
create index lanes_due_idx on reeld.lanes (due_at) where due_at is not null;
-- Room for HOT updates (depth and due_at change with every submit), and vacuumed as often as
-- the job table: every claim rewrites the lanes it serves.
alter table reeld.lanes set (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01);

-- MARK: Running counts

-- A lane's or provider's running jobs are started − ended, two monotonic counters split so
-- that claims and job ends never wait for each other: `started` (on lanes and providers) is
-- raised by the fair claim under the locks it holds on those rows, so it is exact; `ended` is
-- raised by every statement that ends a user's running attempt (the engine's complete, fail,
-- snooze, cancel, release and rescue), in that statement. The claim reads `ended` without a
-- lock, so it may miss an end that committed a moment ago: the count is then high, never low,
-- and a limit is never exceeded. Counters rather than indexes on running jobs, so that an
-- attempt writes no extra index entries. Only users' jobs are counted.
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

-- MARK: Credits

-- One job's reservation to settle, as the engine passes it to reeld.settle_credits().
create type reeld.credit_settlement as (job_id uuid, user_id uuid, reserved bigint, captured bigint);

-- MARK: Defaults

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

grant all on reeld.tiers, reeld.tier_limits, reeld.providers, reeld.costs, reeld.lanes, reeld.lane_ends, reeld.provider_ends
    to service_role;
