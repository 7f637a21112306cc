-- The job engine's tables and its one way in, reeld.submit_job().
create schema if not exists reeld;

create type public.job_state as enum
    ('available', 'running', 'waiting', 'retryable', 'completed', 'failed', 'cancelled');

-- Every kind reeld runs; submit_job() validates against it, so every way in refuses the same way.
create table reeld.job_kinds (
    kind text primary key,
    max_attempts int not null check (max_attempts between 1 and 100),
    required_args text[] not null default '{}',
    needs_project boolean not null default false,
    description text not null
);

insert into reeld.job_kinds (kind, max_attempts, required_args, needs_project, description) values
    ('system.noop',      3,  '{}',          false, 'does nothing (benchmarks, smoke tests)'),
    ('system.sleep',     3,  '{seconds}',   false, 'sleeps args.seconds while heartbeating'),
    ('workflow.run',     3,  '{brief}',     false, 'drives a film from a brief through the eight workflow steps'),
    ('text.storyboard',  5,  '{brief}',     true,  'storyboard and script from a brief'),
    ('image.generate',   5,  '{prompt}',    true,  'an image from text, optionally with a reference image'),
    ('video.generate',   5,  '{prompt}',    true,  'a clip from text or from start/end frames'),
    ('audio.speech',     5,  '{text}',      true,  'voiceover from text'),
    ('audio.music',      5,  '{prompt}',    true,  'a music bed'),
    ('audio.sfx',        5,  '{prompt}',    true,  'a sound effect'),
    ('render.edit',      3,  '{}',          true,  'assembles the timeline from the project''s assets'),
    ('render.export',    3,  '{}',          true,  'renders the timeline to a file');

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
    -- A lease exists exactly while the job runs. The engine's guards rely on it: they test
    -- lease_owner alone, which keeps their plans on the primary key (see JobQueue.swift).
    constraint jobs_lease_only_while_running check ((state = 'running') = (lease_owner is not null))
);

-- A queue table churns: analyze and vacuum it far more often than the defaults, so the
-- planner keeps walking jobs_claim_idx in order instead of sorting a stale estimate.
alter table public.jobs set (autovacuum_analyze_scale_factor = 0.01, autovacuum_vacuum_scale_factor = 0.02,
                             autovacuum_vacuum_insert_scale_factor = 0.02);

-- Serves the claim: the partial index holds only claimable rows, in claim order.
create index jobs_claim_idx on public.jobs (priority, run_at) where state in ('available', 'retryable', 'waiting');
-- Serves the rescuer.
create index jobs_lease_idx on public.jobs (lease_expires_at) where state = 'running';
-- Serves pruning.
create index jobs_finished_idx on public.jobs (finished_at) where state in ('completed', 'failed', 'cancelled');
create index jobs_parent_idx on public.jobs (parent_id) where parent_id is not null;
create index jobs_project_idx on public.jobs (project_id) where project_id is not null;
create index jobs_user_idx on public.jobs (user_id) where user_id is not null;
-- Same key for the same user → the same job. NULLS NOT DISTINCT so system jobs (no user) dedupe too.
create unique index jobs_idempotency_idx on public.jobs (user_id, idempotency_key) nulls not distinct
    where idempotency_key is not null;

-- Finished jobs moved out of the hot table when [queue] archive = true.
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

-- The one way in. Validates, dedupes by idempotency key, inserts. Raises SQLSTATE 22023
-- (invalid_parameter_value) with a message that names the field for anything it refuses.
create function reeld.submit_job(
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

    insert into public.jobs (kind, args, user_id, project_id, idempotency_key, priority, run_at, max_attempts, parent_id)
    values (p_kind, p_args, p_user_id, p_project_id, p_idempotency_key, p_priority,
            coalesce(p_run_at, now()), coalesce(p_max_attempts, k.max_attempts), p_parent_id)
    on conflict (user_id, idempotency_key) where idempotency_key is not null do nothing
    returning id into job_id;

    if job_id is not null then
        created := true;
    else
        -- A concurrent or earlier submit with this key won; ON CONFLICT waited for it to commit.
        select j.id into job_id from public.jobs j
        where j.idempotency_key = p_idempotency_key and j.user_id is not distinct from p_user_id;
        created := false;
    end if;
end
$$;

-- Realtime: every state or progress change is published on `reeld_events` as a JSON array of
-- {id, kind, project, state, progress}, batched per statement (50 events per notification) so a
-- claim of 500 jobs costs a handful of notifications, not 500. Idle workers listen on
-- `reeld_jobs`, notified whenever a change leaves work claimable now.
--
-- The engine's statements publish their own changes: each is a CTE that updates and hands the
-- changed rows to reeld.publish() (JobQueue.swift). A statement trigger with a transition table
-- did this before, but capturing every updated row into the transition table cost about as much
-- as the claim itself. New rows from any source are published by the insert trigger below.
-- Changes to jobs.state or jobs.progress belong to the engine and reeld's SQL functions; an
-- UPDATE from elsewhere is not published.
alter table reeld.job_kinds add constraint job_kinds_plain_name check (kind ~ '^[a-z][a-z0-9_.]*$');

create type reeld.job_change as (id uuid, kind text, project_id uuid, state public.job_state, progress real, run_at timestamptz);

create function reeld.publish(changes reeld.job_change[]) returns int
language plpgsql
as $$
declare
    payload text;
begin
    if changes is null or cardinality(changes) = 0 then
        return 0;
    end if;
    -- Built by concatenation, not json_build_object (several times the cost per row): safe
    -- because every part is a uuid, an enum, a number or a kind, which job_kinds keeps plain.
    for payload in
        select '[' || string_agg('{"id":"' || c.id || '","kind":"' || c.kind || '","project":'
                   || coalesce('"' || c.project_id || '"', 'null') || ',"state":"' || c.state
                   || '","progress":' || c.progress || '}', ',') || ']'
        from unnest(changes) with ordinality as c(id, kind, project_id, state, progress, run_at, n)
        group by (c.n - 1) / 50
    loop
        perform pg_notify('reeld_events', payload);
    end loop;
    if exists (select from unnest(changes) c where c.state in ('available', 'retryable', 'waiting') and c.run_at <= now()) then
        perform pg_notify('reeld_jobs', '');
    end if;
    return cardinality(changes);
end
$$;

create function reeld.jobs_after_insert() returns trigger
language plpgsql
as $$
begin
    perform reeld.publish(array_agg((n.id, n.kind, n.project_id, n.state, n.progress, n.run_at)::reeld.job_change))
    from new_rows n;
    return null;
end
$$;

-- A child that ends wakes the parent waiting for it (a workflow run): due at once, and if the
-- parent is running right now, its next snooze turns into an immediate re-run. A row trigger
-- whose WHEN clause is false costs next to nothing, and it is false for every job without a
-- parent, so the queue's hot path does not pay for it.
create function reeld.wake_parent() returns trigger
language plpgsql
as $$
begin
    update public.jobs set run_at = least(run_at, now()), wake_requested = true
    where id = new.parent_id and state in ('waiting', 'running', 'available', 'retryable');
    if found then
        perform pg_notify('reeld_jobs', '');
    end if;
    return null;
end
$$;

create trigger jobs_after_insert after insert on public.jobs
    referencing new table as new_rows for each statement execute function reeld.jobs_after_insert();
create trigger jobs_wake_parent after update of state on public.jobs
    for each row when (new.parent_id is not null and new.state in ('completed', 'failed', 'cancelled')
                       and old.state is distinct from new.state)
    execute function reeld.wake_parent();
