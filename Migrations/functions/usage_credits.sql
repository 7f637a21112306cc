-- reeld.usage_credits: what a generation's usage costs: units × the price of its unit for the
-- kind and model. A unit the costs do not price is charged the estimate, the most the job was
-- allowed to cost. Reads costs_pkey.
create or replace function reeld.usage_credits(p_kind text, p_model text, p_unit text, p_units double precision) returns bigint
language sql stable
as $$
    select coalesce(
        -- Rounded to a millionth before rounding up, so that 4.2 s at 10 a second is 42, not 43.
        (select case when c.per_unit ? p_unit
                     then ceil(round((greatest(p_units, 0) * (c.per_unit ->> p_unit)::double precision)::numeric, 6))::bigint
                     else c.estimate end
         from reeld.costs c
         where c.kind = p_kind and c.model in (coalesce(p_model, ''), '')
         order by c.model = '' limit 1), 0)
$$;
