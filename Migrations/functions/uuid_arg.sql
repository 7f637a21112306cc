-- reeld.uuid_arg: a uuid argument (null when absent or JSON null), or SQLSTATE 22023 naming it.
create or replace function reeld.uuid_arg(p_args jsonb, p_key text) returns uuid
language plpgsql immutable
as $$
begin
    if p_args -> p_key is null or jsonb_typeof(p_args -> p_key) = 'null' then
        return null;
    end if;
    return (p_args ->> p_key)::uuid;
exception when invalid_text_representation then
    raise exception using errcode = '22023', message = format('args.%s: expected a uuid', p_key);
end
$$;
