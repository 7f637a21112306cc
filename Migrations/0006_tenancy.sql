-- Tenancy and money rules for what users may write as Supabase's `authenticated` role.
--
-- A row's own user_id is not enough: a row that points at a parent (a scene at its project, an
-- asset at its scene) must point at a parent of the same user, or knowing another user's id
-- would let a user put rows into that user's project, where reeld's handlers pick them up.
-- And what reeld records about work (where a file is stored, its media facts, a generation's
-- state and output, a workflow step's progress) is reeld's alone: a user who could rewrite it
-- could make a job read another file or return output it never produced. Users keep reading
-- all of it, and keep editing their projects, their scenes and the role and scene of an asset.

-- MARK: Scenes: the project must be the user's own.

drop policy if exists scenes_insert_own on public.scenes;
drop policy if exists scenes_update_own on public.scenes;
create policy scenes_insert_own on public.scenes for insert to authenticated
    with check (user_id = auth.uid()
                and exists (select from public.projects p where p.id = project_id and p.user_id = auth.uid()));
create policy scenes_update_own on public.scenes for update to authenticated
    using (user_id = auth.uid())
    with check (user_id = auth.uid()
                and exists (select from public.projects p where p.id = project_id and p.user_id = auth.uid()));

-- MARK: Assets: reeld records them; users may re-label their own.

-- Only reeld stores files, so only reeld inserts asset rows. A user may change an asset's role
-- and scene (within the asset's own project) and delete it; storage_key, the size, checksum
-- and media facts stay as reeld probed them.
revoke insert, update on public.assets from authenticated;
grant update (role, scene_id) on public.assets to authenticated;
drop policy if exists assets_insert_own on public.assets;
drop policy if exists assets_update_own on public.assets;
create policy assets_update_own on public.assets for update to authenticated
    using (user_id = auth.uid())
    with check (user_id = auth.uid()
                and (project_id is null
                     or exists (select from public.projects p where p.id = project_id and p.user_id = auth.uid()))
                and (scene_id is null
                     or exists (select from public.scenes s where s.id = scene_id and s.user_id = auth.uid()
                                and s.project_id is not distinct from assets.project_id)));

-- MARK: Generations and workflow steps: written by reeld only.

-- A generation row is the record of one provider call for one job: its job_id, state and
-- output decide what that job returns. A workflow step's state decides which steps a
-- workflow run skips. Users read them (and the workflow_progress view); deleting the project
-- removes them.
revoke insert, update, delete on public.generations, public.workflow_steps from authenticated;
drop policy if exists generations_insert_own on public.generations;
drop policy if exists generations_update_own on public.generations;
drop policy if exists generations_delete_own on public.generations;
drop policy if exists workflow_steps_insert_own on public.workflow_steps;
drop policy if exists workflow_steps_update_own on public.workflow_steps;
drop policy if exists workflow_steps_delete_own on public.workflow_steps;

-- MARK: Workflow steps are regenerated under fresh job keys.

-- Raised each time a completed step is marked stale (functions/mark_later_steps_stale.sql):
-- a workflow run's children for a step carry it in their idempotency keys, so that running a
-- stale step again submits new jobs instead of finding the ones that made the stale output,
-- while a retried run, with the counter unchanged, finds the children it already submitted.
alter table public.workflow_steps add column regeneration int not null default 0 check (regeneration >= 0);
