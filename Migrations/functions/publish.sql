-- reeld.publish: announces job changes. Every state or progress change is published on
-- `reeld_events` as a JSON array of {id, kind, project, state, progress}, 50 changes per
-- notification, so a claim of 500 jobs costs a handful of notifications, not 500. Idle workers
-- listen on `reeld_jobs`, notified whenever a change leaves work claimable now. Notifications
-- are sent at commit. Returns the number of changes.
--
-- The engine's statements publish their own changes (each hands its changed rows here); new
-- rows from any source are published by the insert trigger (jobs_after_insert.sql). An UPDATE
-- of jobs.state or jobs.progress from elsewhere is not published. No locks, no reads.
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
