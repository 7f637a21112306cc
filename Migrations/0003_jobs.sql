-- The job engine's tables. Its one way in, reeld.submit_job(), and the claim are in functions/.
create schema if not exists reeld;

create type public.job_state as enum
    ('available', 'running', 'waiting', 'retryable', 'completed', 'failed', 'cancelled');

-- Every kind reeld runs; submit_job() validates against it, so every way in refuses the same way.
create table reeld.job_kinds (
    kind text primary key,
    max_attempts int not null check (max_attempts between 1 and 100),
    required_args text[] not null default '{}',
    needs_project boolean not null default false,
    -- Acts for someone: needs a user, given or taken from the project (workflow.run makes a
    -- project, which must belong to a user).
    needs_user boolean not null default false,
    description text not null,
    -- The class a kind's limits are counted in; 'none' is not limited by class (a workflow run
    -- mostly waits for its children, which are).
    job_class text not null default 'none'
        check (job_class in ('none', 'text_image', 'video', 'audio', 'render')),
    uses_provider boolean not null default false,
    -- system.noop and system.sleep take args.class, so that tests and benchmarks can stand in
    -- for any class without calling a provider.
    class_from_args boolean not null default false,
    -- Kinds go into NOTIFY payloads unescaped (functions/publish.sql).
    constraint job_kinds_plain_name check (kind ~ '^[a-z][a-z0-9_.]*$')
);

insert into reeld.job_kinds (kind, max_attempts, required_args, needs_project, job_class, uses_provider, class_from_args, description) values
    ('system.noop',      3,  '{}',          false, 'none',       false, true,  'does nothing (benchmarks, smoke tests)'),
    ('system.sleep',     3,  '{seconds}',   false, 'none',       false, true,  'sleeps args.seconds while heartbeating'),
    ('workflow.run',     3,  '{brief}',     false, 'none',       false, false, 'drives a film from a brief through the eight workflow steps'),
    ('text.storyboard',  5,  '{brief}',     true,  'text_image', true,  false, 'storyboard and script from a brief'),
    ('image.generate',   5,  '{prompt}',    true,  'text_image', true,  false, 'an image from text, optionally with a reference image'),
    ('video.generate',   5,  '{prompt}',    true,  'video',      true,  false, 'a clip from text or from start/end frames'),
    ('audio.speech',     5,  '{text}',      true,  'audio',      true,  false, 'voiceover from text'),
    ('audio.music',      5,  '{prompt}',    true,  'audio',      true,  false, 'a music bed'),
    ('audio.sfx',        5,  '{prompt}',    true,  'audio',      true,  false, 'a sound effect'),
    ('render.edit',      3,  '{}',          true,  'render',     false, false, 'assembles the timeline from the project''s assets'),
    ('render.export',    3,  '{}',          true,  'render',     false, false, 'renders the timeline to a file');

update reeld.job_kinds set needs_user = true where kind = 'workflow.run';

create table public.jobs (
    id uuid primary key default gen_random_uuid(),
    kind text not null references reeld.job_kinds (kind),
    state public.job_state not null default 'available',
    user_id uuid references auth.users (id) on delete cascade,
    project_id uuid references public.projects (id) on delete cascade,
    -- The job waiting for this one (a workflow run); woken when this one ends.
    parent_id uuid references public.jobs (id) on delete set null,
    args jsonb not null default '{}',
    result jsonb,
    idempotency_key text check (length(idempotency_key) <= 255),
    priority smallint not null default 100 check (priority between 0 and 1000),
    attempt int not null default 0,
    max_attempts int not null,
    run_at timestamptz not null default now(),
    lease_owner text,
    lease_expires_at timestamptz,
    -- Which attempt holds the lease: a token made by the claim that started it, which no other
    -- attempt of this job holds. lease_owner names the node for people; a node's own rescuer
    -- and claimer may lease a job to the same name twice while its first attempt still runs
    -- on, so the statements that heartbeat or end an attempt are guarded by this token.
    lease_token uuid,
    -- Set when a child ends while this job runs, so its snooze turns into an immediate re-run.
    wake_requested boolean not null default false,
    cancel_requested boolean not null default false,
    progress real not null default 0 check (progress between 0 and 1),
    -- What a snoozed job waits on (a provider task); kept across attempts.
    snooze_state jsonb,
    -- One entry per failed attempt: {attempt, at, class, error, detail}.
    errors jsonb not null default '[]',
    created_at timestamptz not null default now(),
    attempted_at timestamptz,
    finished_at timestamptz,
    -- Copied from the kind (or args.class) at submit, so that the claim needs no join.
    job_class text not null default 'none'
        check (job_class in ('none', 'text_image', 'video', 'audio', 'render')),
    provider text,
    -- What submit reserved (0: nothing), and what the work actually cost when a handler
    -- measured it (a generation's usage); a success captures the smaller of the two.
    credits_reserved bigint not null default 0 check (credits_reserved >= 0),
    credits_used bigint check (credits_used >= 0),
    -- A lease exists exactly while the job runs. The engine's guards rely on it: they test
    -- lease_token alone, which keeps their plans on the primary key (see JobQueue.swift).
    constraint jobs_lease_only_while_running check ((state = 'running') = (lease_owner is not null)
                                                    and (lease_owner is null) = (lease_token is null))
);

-- A queue table churns: analyze and vacuum it far more often than the defaults, so the
-- planner keeps walking the claim indexes in order instead of sorting a stale estimate.
alter table public.jobs set (autovacuum_analyze_scale_factor = 0.01, autovacuum_vacuum_scale_factor = 0.02,
                             autovacuum_vacuum_insert_scale_factor = 0.02);

-- Every job version writes an entry into each index whose predicate it matches (the state is
-- in the claim indexes' predicates, so no claim or end is a HOT update): jobs keeps the indexes
-- reeld reads, and no other. There is no index on user_id alone: deleting a user cascades
-- through a scan, and the studio reads a project's jobs (jobs_project_idx) or one job by id.

-- Serves the plain claim (functions/claim.sql): claimable system jobs in claim order.
create index jobs_claim_system_idx on public.jobs (priority, run_at)
    where state in ('available', 'retryable', 'waiting') and user_id is null;
-- Serves the fair claim's per-lane reads (functions/claim_fair.sql): a lane's claimable jobs in
-- claim order are the leading range of this index.
create index jobs_claim_lane_idx on public.jobs (user_id, job_class, priority, run_at)
    where state in ('available', 'retryable', 'waiting') and user_id is not null;
-- Serves the rescuer.
create index jobs_lease_idx on public.jobs (lease_expires_at) where state = 'running';
-- Serves pruning.
create index jobs_finished_idx on public.jobs (finished_at) where state in ('completed', 'failed', 'cancelled');
create index jobs_parent_idx on public.jobs (parent_id) where parent_id is not null;
create index jobs_project_idx on public.jobs (project_id) where project_id is not null;
-- Same key for the same user → the same job. NULLS NOT DISTINCT so system jobs (no user) dedupe too.
create unique index jobs_idempotency_idx on public.jobs (user_id, idempotency_key) nulls not distinct
    where idempotency_key is not null;

-- Finished jobs moved out of the hot table when [queue] archive = true. Pruning archives with
-- `insert … select *`: the archive keeps the same columns in the same order, so a column added
-- to jobs is added here too.
create table reeld.jobs_archive (like public.jobs including defaults);
create index jobs_archive_finished_idx on reeld.jobs_archive (finished_at);

-- One provider call. Its id is the stable external id sent to the provider, recorded before
-- submitting, so that a recovered job looks its task up instead of paying twice.
create table public.generations (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    project_id uuid references public.projects (id) on delete cascade,
    scene_id uuid references public.scenes (id) on delete set null,
    job_id uuid unique references public.jobs (id) on delete set null,
    kind text not null,
    provider text not null,
    model text,
    prompt text not null default '',
    params jsonb not null default '{}',
    state text not null default 'pending' check (state in ('pending', 'submitted', 'completed', 'failed')),
    provider_task_id text,
    asset_id uuid references public.assets (id) on delete set null,
    output jsonb,
    error text,
    created_at timestamptz not null default now(),
    completed_at timestamptz
);
create index generations_user_idx on public.generations (user_id);
create index generations_project_idx on public.generations (project_id);

create table public.usage_logs (
    id bigint generated always as identity primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    generation_id uuid references public.generations (id) on delete set null,
    provider text not null,
    model text,
    unit text not null,
    units double precision not null,
    credits bigint not null default 0,
    created_at timestamptz not null default now()
);
create index usage_logs_user_idx on public.usage_logs (user_id, created_at);

-- A job's change as reeld.publish() sends it (functions/publish.sql).
create type reeld.job_change as (id uuid, kind text, project_id uuid, state public.job_state, progress real, run_at timestamptz);

-- A claimed job as reeld.claim() and reeld.claim_fair() return it.
create type reeld.claimed_job as (
    id uuid, kind text, project_id uuid, state public.job_state, progress real, run_at timestamptz,
    args jsonb, attempt int, max_attempts int, user_id uuid, parent_id uuid, snooze_state jsonb,
    priority smallint, created double precision, lease_token uuid);

-- Row level security as in 0002_studio.sql. Queue state is read-only to users.
do $$
declare
    t text;
begin
    foreach t in array array['generations'] loop
        execute format('alter table public.%I enable row level security', t);
        execute format('grant select, insert, update, delete on public.%I to authenticated', t);
        execute format('create policy %I on public.%I for select to authenticated using (user_id = auth.uid())', t || '_select_own', t);
        execute format('create policy %I on public.%I for insert to authenticated with check (user_id = auth.uid())', t || '_insert_own', t);
        execute format('create policy %I on public.%I for update to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid())', t || '_update_own', t);
        execute format('create policy %I on public.%I for delete to authenticated using (user_id = auth.uid())', t || '_delete_own', t);
    end loop;
    foreach t in array array['jobs', 'usage_logs'] loop
        execute format('alter table public.%I enable row level security', t);
        execute format('grant select on public.%I to authenticated', t);
        execute format('create policy %I on public.%I for select to authenticated using (user_id = auth.uid())', t || '_select_own', t);
    end loop;
end
$$;

grant all on public.jobs, public.generations, public.usage_logs to service_role;
grant usage on schema reeld to service_role;
grant all on reeld.job_kinds, reeld.jobs_archive to service_role;
