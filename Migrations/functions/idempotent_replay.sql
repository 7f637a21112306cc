-- reeld.idempotent_replay: the job a user's idempotency key already names (null: none), for
-- reeld.submit_job. A key names one job: the same key with another kind or other args is
-- refused (SQLSTATE 22023, naming the key), or a changed request would silently get the old
-- job and its old result. Args compare as JSON values (key order and spacing do not matter).
-- Reads by jobs_idempotency_idx; takes no locks.
create or replace function reeld.idempotent_replay(p_user uuid, p_key text, p_kind text, p_args jsonb) returns uuid
language plpgsql stable
as $$
declare
    v_job record;
begin
    select j.id, j.kind, j.args into v_job from public.jobs j
    where j.idempotency_key = p_key and j.user_id is not distinct from p_user;
    if not found then
        return null;
    end if;
    if v_job.kind <> p_kind or v_job.args <> p_args then
        raise exception using errcode = '22023', message = format(
            'idempotency_key: "%s" already names job %s (%s) with other %s; use a new key for different work',
            p_key, v_job.id, v_job.kind, case when v_job.kind <> p_kind then 'kind' else 'args' end);
    end if;
    return v_job.id;
end
$$;
