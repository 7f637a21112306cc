-- reeld.provider_room_check: raises RD001 when p_over, that is, when a provider's counters,
-- raised at the end of reeld.claim_fair's statement, show more running (or more started this
-- minute) than its limit allows; returns 0 otherwise. claim_fair catches RD001 and tries once
-- more holding the providers' locks. No locks, no reads.
create or replace function reeld.provider_room_check(p_over boolean) returns int
language plpgsql
as $$
begin
    if p_over then
        raise exception 'a concurrent claim took the room this claim read for a provider' using errcode = 'RD001';
    end if;
    return 0;
end
$$;
