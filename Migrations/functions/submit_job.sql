-- reeld.submit_job: the one way in. Validates a job, checks its workflow prerequisites
-- (reeld.check_workflow), reserves its estimated credits and inserts it, idempotently: the same
-- idempotency key for the same user with the same kind and args returns the first job (created
-- false), reserves nothing again, and is not held to prerequisites its first submit met; with
-- another kind or other args it is refused (reeld.idempotent_replay). Raises SQLSTATE 22023
-- (invalid_parameter_value) with a message that names the field for anything it refuses.
--
-- Lock order: the user's subscription (reeld.credit_account) before the job row and, through
-- the insert trigger, its lane. Indexes: job_kinds_pkey, jobs_idempotency_idx for the replay
-- and the insert's ON CONFLICT, costs_pkey. Executable by service_role only.
create or replace function reeld.submit_job(
    p_kind text,
    p_args jsonb default '{}',
    p_user_id uuid default null,
    p_project_id uuid default null,
    p_idempotency_key text default null,
    p_priority int default 100,
    p_run_at timestamptz default null,
    p_max_attempts int default null,
    p_parent_id uuid default null,
    out job_id uuid,
    out created boolean
)
language plpgsql
as $$
declare
    k reeld.job_kinds;
    owner uuid;
    arg text;
    v_class text;
    v_provider text;
    v_estimate bigint := 0;
    v_account public.subscriptions;
    v_height int;
    v_allowance record;
begin
    select * into k from reeld.job_kinds where kind = p_kind;
    if not found then
        raise exception using errcode = '22023', message = format('kind: unknown job kind "%s"', p_kind);
    end if;
    if p_args is null or jsonb_typeof(p_args) <> 'object' then
        raise exception using errcode = '22023', message = 'args: expected a JSON object';
    end if;
    foreach arg in array k.required_args loop
        if not p_args ? arg then
            raise exception using errcode = '22023', message = format('args.%s: required for kind %s', arg, p_kind);
        end if;
    end loop;
    if p_priority is null or p_priority not between 0 and 1000 then
        raise exception using errcode = '22023', message = format('priority: expected 0…1000, got %s', p_priority);
    end if;
    if p_max_attempts is not null and p_max_attempts not between 1 and 100 then
        raise exception using errcode = '22023', message = format('max_attempts: expected 1…100, got %s', p_max_attempts);
    end if;
    if p_idempotency_key is not null and (length(p_idempotency_key) = 0 or length(p_idempotency_key) > 255) then
        raise exception using errcode = '22023', message = 'idempotency_key: expected 1…255 characters';
    end if;
    if p_user_id is not null and not exists (select from auth.users where id = p_user_id) then
        raise exception using errcode = '22023', message = format('user_id: no user %s', p_user_id);
    end if;
    if p_project_id is not null then
        select user_id into owner from public.projects where id = p_project_id;
        if not found then
            raise exception using errcode = '22023', message = format('project_id: no project %s', p_project_id);
        end if;
        if p_user_id is null then
            p_user_id := owner;
        elsif p_user_id <> owner then
            raise exception using errcode = '22023', message = 'project_id: project belongs to another user';
        end if;
    elsif k.needs_project then
        raise exception using errcode = '22023', message = format('project_id: required for kind %s', p_kind);
    end if;
    if k.needs_user and p_user_id is null then
        raise exception using errcode = '22023', message = format('user_id: %s needs a user or a project', p_kind);
    end if;

    -- A replayed submit returns its job, whatever has changed since: it reserves nothing again
    -- and is not held to prerequisites that its first submit met.
    if p_idempotency_key is not null then
        job_id := reeld.idempotent_replay(p_user_id, p_idempotency_key, p_kind, p_args);
        if job_id is not null then
            created := false;
            return;
        end if;
    end if;

    v_class := k.job_class;
    if k.class_from_args and p_args ? 'class' then
        v_class := p_args ->> 'class';
        if v_class is null or v_class not in ('none', 'text_image', 'video', 'audio', 'render') then
            raise exception using errcode = '22023',
                message = format('args.class: expected one of none, text_image, video, audio, render, got %s', p_args -> 'class');
        end if;
    end if;
    if p_args ? 'provider' then
        v_provider := p_args ->> 'provider';
        if v_provider is null or v_provider !~ '^[a-z][a-z0-9_-]*$' then
            raise exception using errcode = '22023', message = format('args.provider: expected a provider name, got %s', p_args -> 'provider');
        end if;
    elsif k.uses_provider then
        select name into v_provider from reeld.providers where is_default;
    end if;

    if p_project_id is not null and reeld.job_step(p_kind, p_args) is not null then
        perform reeld.check_workflow(p_kind, p_args, p_project_id);
    end if;

    if p_user_id is not null then
        if p_kind = 'render.export' and p_args ? 'height' then
            if jsonb_typeof(p_args -> 'height') <> 'number' or (p_args ->> 'height') !~ '^[0-9]+$' then
                raise exception using errcode = '22023', message = 'args.height: expected a whole number of pixels';
            end if;
            v_height := (p_args ->> 'height')::int;
            select * into v_allowance from reeld.user_allowance(p_user_id);
            if v_height > v_allowance.max_export_height then
                raise exception using errcode = '22023', message = format(
                    'args.height: the %s tier exports at most %sp (asked for %sp)', v_allowance.tier, v_allowance.max_export_height, v_height);
            end if;
        end if;
        v_estimate := reeld.estimate_credits(p_kind, p_args ->> 'model');
        if v_estimate > 0 then
            -- Locks the user's balance before the job row (and its lane) is written: every
            -- statement that holds both takes the balance first.
            v_account := reeld.credit_account(p_user_id);
            if v_account.credits_balance < v_estimate then
                raise exception using errcode = '22023', message = format(
                    'credits: %s needs %s credits but the balance is %s (%s reserved by queued jobs); buy credits or wait for the monthly allowance',
                    p_kind, v_estimate, v_account.credits_balance, v_account.credits_reserved);
            end if;
        end if;
    end if;

    insert into public.jobs (kind, args, user_id, project_id, idempotency_key, priority, run_at, max_attempts, parent_id,
                             job_class, provider, credits_reserved)
    values (p_kind, p_args, p_user_id, p_project_id, p_idempotency_key, p_priority,
            coalesce(p_run_at, now()), coalesce(p_max_attempts, k.max_attempts), p_parent_id,
            v_class, v_provider, v_estimate)
    on conflict (user_id, idempotency_key) where idempotency_key is not null do nothing
    returning id into job_id;

    if job_id is not null then
        created := true;
        if v_estimate > 0 then
            insert into public.credit_transactions (user_id, job_id, type, amount, note)
            values (p_user_id, job_id, 'reserve', v_estimate, p_kind);
            update public.subscriptions
            set credits_balance = credits_balance - v_estimate, credits_reserved = credits_reserved + v_estimate
            where user_id = p_user_id;
        end if;
    else
        -- A concurrent submit with this key won; ON CONFLICT waited for it to commit.
        job_id := reeld.idempotent_replay(p_user_id, p_idempotency_key, p_kind, p_args);
        created := false;
    end if;
end
$$;

revoke execute on function reeld.submit_job from public;
grant execute on function reeld.submit_job to service_role;
