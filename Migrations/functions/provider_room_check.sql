-- DRAFT from 0009_provider_room_at_commit.sql
-- Raised inside the claim's statement when a provider's counters, raised at the end, show
-- more running (or more started this minute) than its limit allows.
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
