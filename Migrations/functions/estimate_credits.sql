-- reeld.estimate_credits: what a kind is estimated to cost for a model ('' = any model):
-- reserved at submit, the most it is charged; 0 when it has no cost. Reads costs_pkey.
create or replace function reeld.estimate_credits(p_kind text, p_model text) returns bigint
language sql stable
as $$
    select coalesce((select c.estimate from reeld.costs c
                     where c.kind = p_kind and c.model in (coalesce(p_model, ''), '')
                     order by c.model = '' limit 1), 0)
$$;
