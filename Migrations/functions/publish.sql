-- reeld.publish: announces job changes. Every state or progress change is published on
-- `reeld_events` as a JSON array of {id, kind, project, state, progress}, as many changes per
-- notification as fit in 7,990 bytes (PostgreSQL refuses a payload of 8,000 bytes or more, and
-- a statement whose notification is refused fails whole: at a fixed 50 per notification, 50
-- exports of a project came to 8,001), so a claim of 500 jobs costs a handful of
-- notifications, not 500. Idle workers listen on `reeld_jobs`, notified whenever a change
-- leaves work claimable now. Notifications are sent at commit. Returns the number of changes.
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
    -- Split by size: a change goes into notification k when the running length of the
    -- changes up to it (each with its comma) ends in [k * room, (k + 1) * room). A notification
    -- then holds at most room + the widest change - 1 bytes of changes and commas, so with room
    -- 7,990 less the widest every payload, brackets included, is at most 7,990 bytes. Every
    -- part is ASCII, so characters are bytes.
    for payload in
        select '[' || string_agg(e.item, ',' order by e.n) || ']'
        from (select s.item, s.n, sum(length(s.item) + 1) over (order by s.n) as ends,
                     max(length(s.item) + 1) over () as widest
              from (select c.n, '{"id":"' || c.id || '","kind":"' || c.kind || '","project":'
                                || coalesce('"' || c.project_id || '"', 'null') || ',"state":"' || c.state
                                || '","progress":' || c.progress || '}' as item
                    from unnest(changes) with ordinality as c(id, kind, project_id, state, progress, run_at, n)) s) e
        group by (e.ends - 1) / greatest(7990 - e.widest, 1)
        order by min(e.n)
    loop
        perform pg_notify('reeld_events', payload);
    end loop;
    if exists (select from unnest(changes) c where c.state in ('available', 'retryable', 'waiting') and c.run_at <= now()) then
        perform pg_notify('reeld_jobs', '');
    end if;
    return cardinality(changes);
end
$$;
