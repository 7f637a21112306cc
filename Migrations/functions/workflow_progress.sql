-- Progress per project and step, readable by the project's owner (RLS of workflow_steps applies).
create or replace view public.workflow_progress with (security_invoker = true) as
select ws.project_id, ws.user_id, ws.step, ws.state, ws.job_count, ws.jobs_done,
       case when ws.state = 'completed' then 1.0
            when ws.job_count > 0 then round(ws.jobs_done::numeric / ws.job_count, 3)
            else 0.0 end as fraction,
       ws.error, ws.started_at, ws.finished_at, ws.updated_at
from public.workflow_steps ws;
grant select on public.workflow_progress to authenticated, service_role;
