-- Where a generation's provider call stands, so that a generation is paid for once:
--   pending         the row exists (its id is the external id); no call has gone out
--   submitting      the create call is going out or went out; whether the provider accepted it
--                   is not known until its task id is recorded
--   submitted       the provider accepted it; provider_task_id holds its task
--   completed       the output is stored
--   failed          the provider refused or the work failed
--   outcome_unknown an attempt found it submitting, and the provider can neither be asked by
--                   the external id nor be called again safely: the job failed without charge,
--                   and an operator settles it with the provider
alter table public.generations drop constraint generations_state_check;
alter table public.generations add constraint generations_state_check
    check (state in ('pending', 'submitting', 'submitted', 'completed', 'failed', 'outcome_unknown'));

-- Before this, a call in flight left its row pending: one that is not finished may have reached
-- the provider, so it is treated as submitting.
update public.generations set state = 'submitting' where state = 'pending';
