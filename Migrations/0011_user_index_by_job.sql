-- jobs_user_idx keyed by (user_id, id) instead of (user_id).
--
-- Every attempt of a user's job writes new row versions (claim, then completion), and none of
-- them can be a HOT update, so each adds an entry to every index on jobs. Keyed by the user
-- alone, a user's entries were all duplicates of one key: B-tree deduplication packed them into
-- posting lists that every new version had to be spliced into, and pages full of one key were
-- cleared by bottom-up deletion passes that checked hundreds of heap tuples at a time. In
-- `reeld bench queue --fair` (1,000 users, 100 jobs each) those two cost about a tenth of
-- PostgreSQL's time per job, and nothing like it for system jobs, which this partial index
-- does not hold. With the job's id in the key, every job has its own key, as in the primary
-- key, and its versions sit side by side, where they are cleared as cheaply as the primary
-- key's. The index serves the same reads: a user's jobs (the studio, under RLS) and the cascade
-- from auth.users. The fair drain rose by about 5 % (alternated runs, see the README).
create index jobs_user_job_idx on public.jobs (user_id, id) where user_id is not null;
drop index public.jobs_user_idx;
alter index public.jobs_user_job_idx rename to jobs_user_idx;
