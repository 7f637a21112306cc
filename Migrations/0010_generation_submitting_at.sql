-- When a generation's create call went out (it became submitting): a provider that takes no
-- client reference but lists its tasks (OpenAI's videos) is searched for work made since then
-- when an attempt finds the generation still submitting after a crash. Rows submitting before
-- this have none, and their outcome stays unknown.
alter table public.generations add column submitting_at timestamptz;
