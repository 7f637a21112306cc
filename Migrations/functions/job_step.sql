-- reeld.job_step: the workflow step a job works on, from its kind and, for images, its role;
-- null for a job outside the workflow. Pure.
create or replace function reeld.job_step(p_kind text, p_args jsonb) returns public.workflow_step
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
