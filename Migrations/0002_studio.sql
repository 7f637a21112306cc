-- The studio's tables (the seed's data model): project → scenes → generations → asset;
-- project → workflow_steps; user → subscription; user → ledger and usage.
-- Every user-owned table carries user_id → auth.users, has RLS on, and policies by auth.uid().
-- The job-linked tables (generations, usage_logs) are in 0003_jobs.sql.

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

-- A user's plan and balance. The balance moves only in the transactions that also write the
-- ledger (functions/credit_*.sql, settle_credits.sql, submit_job.sql).
create table public.subscriptions (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null unique references auth.users (id) on delete cascade,
    tier public.tier not null default 'free',
    limits jsonb not null default '{}',  -- enterprise overrides
    current_period_start timestamptz not null default date_trunc('month', now()),
    created_at timestamptz not null default now(),
    -- Credits that may be reserved now: grants + purchases + adjustments − captures − open reserves.
    credits_balance bigint not null default 0 check (credits_balance >= 0),
    -- Sum of open reserves (reserved at submit, not yet captured or released).
    credits_reserved bigint not null default 0 check (credits_reserved >= 0),
    -- The month whose allowance was granted last.
    granted_period date
);

-- The ledger: every movement of a user's credits, one row each.
create table public.credit_transactions (
    id bigint generated always as identity primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    job_id uuid,
    type text not null check (type in ('grant', 'purchase', 'reserve', 'capture', 'release', 'adjustment')),
    amount bigint not null,
    note text,
    created_at timestamptz not null default now(),
    period_start date,
    -- An outside reference (a payment id) that makes a purchase or adjustment idempotent.
    reference text,
    unique (job_id, type),
    constraint credit_transactions_amount_sign check (
        case type when 'adjustment' then amount <> 0 else amount > 0 end),
    constraint credit_transactions_grant_period check ((type = 'grant') = (period_start is not null))
);
create index credit_transactions_user_idx on public.credit_transactions (user_id, created_at);
-- One grant per user and month.
create unique index credit_transactions_grant_idx on public.credit_transactions (user_id, period_start)
    where type = 'grant';
create unique index credit_transactions_reference_idx on public.credit_transactions (user_id, type, reference)
    where reference is not null;

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

-- Supabase-style row level security: a user sees and writes only their own rows. reeld
-- connects as a role that bypasses RLS (service_role on Supabase; a superuser or a BYPASSRLS
-- role elsewhere). Money is read-only to users: it changes only through reeld, so users get
-- SELECT there and no write policy at all.
grant usage on schema public to anon, authenticated, service_role;

do $$
declare
    t text;
begin
    -- Tables the studio app edits as the user.
    foreach t in array array['projects', 'scenes', 'assets', 'workflow_steps'] loop
        execute format('alter table public.%I enable row level security', t);
        execute format('grant select, insert, update, delete on public.%I to authenticated', t);
        execute format('create policy %I on public.%I for select to authenticated using (user_id = auth.uid())', t || '_select_own', t);
        execute format('create policy %I on public.%I for insert to authenticated with check (user_id = auth.uid())', t || '_insert_own', t);
        execute format('create policy %I on public.%I for update to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid())', t || '_update_own', t);
        execute format('create policy %I on public.%I for delete to authenticated using (user_id = auth.uid())', t || '_delete_own', t);
    end loop;
    -- Tables users may read but only reeld writes.
    foreach t in array array['subscriptions', 'credit_transactions'] loop
        execute format('alter table public.%I enable row level security', t);
        execute format('grant select on public.%I to authenticated', t);
        execute format('create policy %I on public.%I for select to authenticated using (user_id = auth.uid())', t || '_select_own', t);
    end loop;
end
$$;

grant all on public.projects, public.scenes, public.assets, public.subscriptions, public.credit_transactions,
    public.workflow_steps to service_role;
