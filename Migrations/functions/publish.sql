-- DRAFT from 0003_jobs.sql
create or replace function reeld.publish(changes reeld.job_change[]) returns int
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
