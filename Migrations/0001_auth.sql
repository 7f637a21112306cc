-- A minimal stand-in for Supabase's auth schema, created only where Supabase is absent.
-- On a Supabase database every object below already exists and each statement is a no-op,
-- so the same migrations run against both.

do $$
begin
    if not exists (select from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select from pg_roles where rolname = 'service_role') then
        -- reeld connects as (or like) this role: it must see every user's rows.
        create role service_role nologin noinherit bypassrls;
    end if;
end
$$;

create schema if not exists auth;

create table if not exists auth.users (
    id uuid primary key default gen_random_uuid(),
    email text unique,
    created_at timestamptz not null default now()
);

-- Supabase's definition: the `sub` claim of the request's JWT, as PostgREST sets it. It stays
-- here rather than in functions/: the row level security policies of the next migrations call
-- it, and a policy needs its function to exist when it is created.
create or replace function auth.uid() returns uuid
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

grant usage on schema auth to anon, authenticated, service_role;
grant execute on function auth.uid() to anon, authenticated, service_role;
