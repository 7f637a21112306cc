-- reeld.check_workflow: refuses (SQLSTATE 22023) a job whose earlier workflow steps have not
-- produced what it needs, naming the missing step: idea → storyboard → hero_shot → frames →
-- clips → audio → edit → export. Takes no locks; reads projects and scenes by key and assets
-- by assets_project_idx.
create or replace function reeld.check_workflow(p_kind text, p_args jsonb, p_project uuid) returns void
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
