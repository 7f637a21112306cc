-- The studio's tables (the seed's data model): project → scenes → generations → asset;
-- project → workflow_steps; user → subscription; user → ledger and usage.
-- Every user-owned table carries user_id → auth.users, has RLS on, and policies by auth.uid().

create type public.workflow_step as enum
    ('idea', 'storyboard', 'hero_shot', 'frames', 'clips', 'audio', 'edit', 'export');
create type public.workflow_step_state as enum ('pending', 'running', 'completed', 'failed', 'stale');
create type public.tier as enum ('free', 'pro', 'enterprise');

create table public.projects (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    title text not null default 'Untitled',
    brief text,
    storyboard jsonb,
    settings jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index projects_user_idx on public.projects (user_id);

create table public.scenes (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    project_id uuid not null references public.projects (id) on delete cascade,
    index int not null,
    title text not null default '',
    description text not null default '',
    narration text not null default '',
    start_frame_prompt text,
    end_frame_prompt text,
    duration_seconds real not null default 5,
    created_at timestamptz not null default now(),
    unique (project_id, index)
);
create index scenes_user_idx on public.scenes (user_id);

create table public.assets (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    project_id uuid references public.projects (id) on delete cascade,
    scene_id uuid references public.scenes (id) on delete set null,
    kind text not null check (kind in ('image', 'video', 'audio', 'text', 'timeline', 'export')),
    role text,                          -- hero, start_frame, end_frame, clip, voiceover, music, sfx, film…
    storage_key text not null,          -- path under the storage root: projects/<id>/images|videos|audio|exports/…
    mime_type text not null,
    size_bytes bigint not null check (size_bytes >= 0),
    sha256 text not null,
    duration_seconds double precision,
    width int,
    height int,
    media jsonb not null default '{}',  -- the full probe: streams, codecs, rates
    created_at timestamptz not null default now()
);
create index assets_user_idx on public.assets (user_id);
create index assets_project_idx on public.assets (project_id, kind);

create table public.subscriptions (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null unique references auth.users (id) on delete cascade,
    tier public.tier not null default 'free',
    limits jsonb not null default '{}',  -- enterprise overrides
    current_period_start timestamptz not null default date_trunc('month', now()),
    created_at timestamptz not null default now()
);

create table public.credit_transactions (
    id bigint generated always as identity primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    job_id uuid,
    type text not null check (type in ('grant', 'purchase', 'reserve', 'capture', 'release', 'adjustment')),
    amount bigint not null,
    note text,
    created_at timestamptz not null default now(),
    unique (job_id, type)
);
create index credit_transactions_user_idx on public.credit_transactions (user_id, created_at);

create table public.workflow_steps (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    project_id uuid not null references public.projects (id) on delete cascade,
    step public.workflow_step not null,
    state public.workflow_step_state not null default 'pending',
    job_count int not null default 0,
    jobs_done int not null default 0,
    error text,
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz not null default now(),
    unique (project_id, step)
);
create index workflow_steps_user_idx on public.workflow_steps (user_id);
