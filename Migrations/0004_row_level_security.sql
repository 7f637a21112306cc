-- Supabase-style row level security: a user sees and writes only their own rows.
-- reeld connects as a role that bypasses RLS (service_role on Supabase; a superuser or a
-- BYPASSRLS role elsewhere). Money and queue state are read-only to users: they change only
-- through reeld, so users get SELECT there and no write policy at all.

grant usage on schema public to anon, authenticated, service_role;

do $$
declare
    t text;
begin
    -- Tables the studio app edits as the user.
    foreach t in array array['projects', 'scenes', 'assets', 'workflow_steps', 'generations'] loop
        execute format('alter table public.%I enable row level security', t);
        execute format('grant select, insert, update, delete on public.%I to authenticated', t);
        execute format('create policy %I on public.%I for select to authenticated using (user_id = auth.uid())', t || '_select_own', t);
        execute format('create policy %I on public.%I for insert to authenticated with check (user_id = auth.uid())', t || '_insert_own', t);
        execute format('create policy %I on public.%I for update to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid())', t || '_update_own', t);
        execute format('create policy %I on public.%I for delete to authenticated using (user_id = auth.uid())', t || '_delete_own', t);
    end loop;
    -- Tables users may read but only reeld writes.
    foreach t in array array['jobs', 'subscriptions', 'credit_transactions', 'usage_logs'] loop
        execute format('alter table public.%I enable row level security', t);
        execute format('grant select on public.%I to authenticated', t);
        execute format('create policy %I on public.%I for select to authenticated using (user_id = auth.uid())', t || '_select_own', t);
    end loop;
end
$$;

grant all on all tables in schema public to service_role;
grant usage on schema reeld to service_role;
grant all on all tables in schema reeld to service_role;
grant execute on function reeld.submit_job to service_role;
revoke execute on function reeld.submit_job from public;
