-- Deadlines for jobs that go on without spending attempts: a snooze (waiting for a provider's
-- task or for child jobs) spends none, and a throttled attempt gives its attempt back, so
-- without a bound a task that stays pending or a provider that answers 429 forever keeps a
-- job cycling with its credits reserved. Per kind, written from configuration by
-- reeld.apply_settings ([deadlines."KIND"]); null: no deadline.
alter table reeld.job_kinds
    add column waiting_deadline interval check (waiting_deadline > interval '0'),
    add column throttled_deadline interval check (throttled_deadline > interval '0');

-- The defaults config/reeld.toml documents (QueueSettings.defaultDeadlines).
update reeld.job_kinds set waiting_deadline = interval '6 hours', throttled_deadline = interval '2 hours'
where kind = 'video.generate';
update reeld.job_kinds set waiting_deadline = interval '1 hour', throttled_deadline = interval '1 hour'
where kind in ('text.storyboard', 'image.generate', 'audio.speech', 'audio.music', 'audio.sfx');

-- When the job first snoozed (kept across snoozes, so that the waiting deadline counts the
-- whole wait), and when the current run of throttled attempts began (cleared by an attempt
-- that ends any other way). An operator's retry clears both.
alter table public.jobs
    add column waiting_since timestamptz,
    add column throttled_since timestamptz;
-- The archive keeps the same columns in the same order (see 0003_jobs.sql).
alter table reeld.jobs_archive
    add column waiting_since timestamptz,
    add column throttled_since timestamptz;
