import Foundation
import Logging
import ReelCore
import ReelDB

/// The job engine's SQL: submit, claim, heartbeat, complete, fail, snooze, cancel, rescue, prune.
///
/// Every state change is one statement, guarded by `lease_owner = $owner` where it ends an
/// attempt: a node whose lease was taken away can never complete, fail or snooze the job again,
/// so no job runs twice to completion. A lease owner is set exactly while a job is running (a
/// CHECK constraint holds the schema to it), so the guard needs no `state = 'running'`, and must
/// not have one: that term lets the planner drive these updates from `jobs_lease_idx`, whose
/// dead entries pile up under load, instead of probing the primary key by id.
///
/// Each statement that changes jobs is written whole beside the function that runs it, in one
/// shape. The update is the CTE `changed`; `published` hands its rows to `reeld.publish()` as one
/// array, which NOTIFYs `reeld_events` for the studio and `reeld_jobs` when work became
/// claimable (new rows are published by the insert trigger in `Migrations/functions/jobs_after_insert.sql`): in
/// the same transaction by construction, and cheaper than a trigger's transition table. A
/// statement that may end a job's reservation settles its credits in the CTE `settled` through
/// `reeld.settle_credits()`. A statement that ends running attempts counts the ended runs of
/// users' jobs into `reeld.lane_ends` and `reeld.provider_ends`, where the
/// fair claim's limits read them: one pass over the changed rows groups them (`run_ends`), and
/// the two upserts lock their rows in key order, lanes before providers, so that two
/// statements' batches cannot deadlock.
public struct JobQueue: Sendable {
    public let database: Database
    public let clock: any QueueClock
    /// How long a provider stays throttled after consecutive 429s that gave no Retry-After.
    public let throttleBackoff: Backoff

    public init(database: Database, clock: any QueueClock = DatabaseClock(), throttleBackoff: Backoff = Backoff()) {
        self.database = database
        self.clock = clock
        self.throttleBackoff = throttleBackoff
    }

    // MARK: Submit

    /// Submits through `reeld.submit_job()`. The same idempotency key returns the same job.
    /// Throws `SubmitError.invalid` with the database's reason when the job is refused.
    public func submit(_ job: JobSubmission) async throws -> SubmitReceipt {
        do {
            let row = try await database.query(
                """
                select job_id, created from reeld.submit_job($1, $2::jsonb, $3::uuid, $4::uuid, $5, $6::int, $7::timestamptz, $8::int, $9::uuid)
                """,
                [job.kind.rawValue, job.args, job.userID, job.projectID, job.idempotencyKey, job.priority, job.runAt, job.maxAttempts, job.parentID]
            )[0]
            return SubmitReceipt(jobID: try row.uuid("job_id"), created: try row.bool("created"))
        } catch let error as DatabaseError where error.isInvalidInput {
            throw SubmitError.invalid(error.message)
        }
    }

    // MARK: Claim

    /// Leases up to `limit` claimable jobs for `owner`.
    ///
    /// Users' jobs come first, fairly: `reeld.claim_fair()` (`Migrations/functions/claim_fair.sql`)
    /// serves them round robin by user and job class within each tier's and provider's
    /// limits, across all nodes. System jobs (no user) are unlimited and fill what is left of the
    /// batch by priority, then run time, served by `jobs_claim_system_idx` (partial on claimable
    /// jobs without a user). SKIP LOCKED throughout: nodes claim at once without waiting on each
    /// other's rows.
    public func claim(owner: String, limit: Int, lease: Duration) async throws -> [ClaimedJob] {
        let rows = try await database.query(Self.claimSQL, [owner, limit, clock.now(), lease.seconds])
        return try rows.map { row in
            ClaimedJob(
                id: try row.uuid("id"), kind: JobKind(try row.string("kind")), args: try row.json("args"),
                attempt: try row.int("attempt"), maxAttempts: try row.int("max_attempts"),
                userID: try row.optionalUUID("user_id"), projectID: try row.optionalUUID("project_id"),
                parentID: try row.optionalUUID("parent_id"), snoozeState: try row.optionalJSON("snooze_state"),
                priority: try row.int("priority"), createdAt: try row.epochDate("created"))
        }.sorted { ($0.priority, $0.createdAt) < ($1.priority, $1.createdAt) }
    }

    /// The claim is `reeld.claim()` (`Migrations/functions/claim.sql`): the fair claim of users'
    /// jobs, then, only if the batch has room left, system jobs for exactly that room. One round
    /// trip; the function keeps its statements planned once per connection.
    static let claimSQL = "select * from reeld.claim($1, $2::int, $3::timestamptz, $4::double precision)"

    /// When a claim may next find work that was not claimable at the last one: a scheduled
    /// user's job, a rate-limited lane's next token, the end of a provider's throttle. Nil when
    /// nothing is waiting on time. The worker sleeps no longer than this after an empty claim.
    public func nextClaimAt() async throws -> Date? {
        try await database.query(
            "select extract(epoch from reeld.next_claim_at($1::timestamptz))::double precision as at", [clock.now()]
        )[0].optionalEpochDate("at")
    }

    // MARK: Heartbeat

    /// Extends the leases of the jobs `owner` runs and records their progress, in one round trip.
    /// Returns the jobs whose cancel was requested, and those whose lease this owner lost.
    public func heartbeat(owner: String, jobs: [UUID: Double?], lease: Duration) async throws -> HeartbeatResult {
        guard !jobs.isEmpty else { return HeartbeatResult(cancelRequested: [], lost: []) }
        let ids = Array(jobs.keys)
        let progress = JSONValue.array(jobs.compactMap { id, value in
            value.map { .object(["id": .string(id.lowercasedText), "progress": .double(min(max($0, 0), 1))]) }
        })
        let now = clock.now()
        let rows = try await database.withConnection { conn -> (extended: PostgresRows, lost: PostgresRows) in
            if case .array(let items) = progress, !items.isEmpty {
                // By primary key, as in complete(_:_:) below.
                try conn.query(Self.reportProgressSQL, [owner, progress])
            }
            // The ids as array(select unnest(…)): a list whose length the planner cannot see is
            // looked up by primary key; a visible one of a few hundred ids on a table of some
            // thousand rows was planned as a scan of the whole table.
            // SKIP LOCKED: a row locked right now is being completed or cancelled by another
            // statement; waiting for it would only risk a deadlock with this node's own commits.
            // Not published: a lease extension changes neither state nor progress.
            let extended = try conn.query(
                """
                update public.jobs set lease_expires_at = coalesce($3::timestamptz, now()) + make_interval(secs => $4::double precision)
                where id in (select id from public.jobs where id = any(array(select unnest($2::uuid[]))) and lease_owner = $1
                             for update skip locked)
                returning id, cancel_requested
                """, [owner, SQLArray(ids), now, lease.seconds])
            let lost = try conn.query(
                "select id from public.jobs where id = any(array(select unnest($2::uuid[]))) and lease_owner is distinct from $1",
                [owner, SQLArray(ids)])
            return (extended, lost)
        }
        var cancel = Set<UUID>()
        for row in rows.extended where try row.bool("cancel_requested") { cancel.insert(try row.uuid("id")) }
        let lost = Set(try rows.lost.map { try $0.uuid("id") })
        return HeartbeatResult(cancelRequested: cancel, lost: lost)
    }

    /// Progress reported with a heartbeat: $1 owner, $2 `[{id, progress}]`.
    static let reportProgressSQL = """
        with reported as materialized (select p.id, p.progress from jsonb_to_recordset($2::jsonb) as p(id uuid, progress real)),
        changed as (
            update public.jobs j set progress = p.progress
            from reported p
            where j.id = any(array(select k.id from reported k)) and j.id = p.id
              and j.lease_owner = $1 and j.progress <> p.progress
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        )
        select changed.* from changed, published
        """

    /// Records one running job's progress at once (renders report every second instead of
    /// waiting for the heartbeat; the change is published on `reeld_events`) and returns whether
    /// a cancel was requested. Nil when `owner` no longer holds the job.
    public func recordProgress(owner: String, job: UUID, progress: Double) async throws -> Bool? {
        // By primary key; the lease guard keeps a node that lost the job from writing over the new owner.
        try await database.query(Self.recordProgressSQL, [job, owner, min(max(progress, 0), 1)])
            .first.map { try $0.bool("cancel_requested") }
    }

    /// $1 job, $2 owner, $3 progress.
    static let recordProgressSQL = """
        with changed as (
            update public.jobs j set progress = $3::real
            where id = $1::uuid and lease_owner = $2
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at,
                      j.cancel_requested
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        )
        select changed.* from changed, published
        """

    // MARK: Ending an attempt

    /// Completes a batch of jobs in one statement, capturing their reserved credits (what the
    /// work cost, at most the reserve; the rest released). Returns the ids that were completed;
    /// a job missing from the answer had lost its lease (it was rescued) and is not completed twice.
    @discardableResult
    public func complete(owner: String, _ completions: [(id: UUID, result: JSONValue)]) async throws -> Set<UUID> {
        guard !completions.isEmpty else { return [] }
        let payload = JSONValue.array(completions.map { .object(["id": .string($0.id.lowercasedText), "result": $0.result]) })
        let rows = try await database.query(Self.completeSQL, [owner, payload])
        return Set(try rows.map { try $0.uuid("id") })
    }

    /// $1 owner, $2 `[{id, result}]`. The rows are found by primary key, whatever the statistics
    /// say: joined with the payload directly, a plan made while lease_owner was null in every
    /// analyzed row (estimate: one row is this owner's) scans the table for the owner's jobs and
    /// parses the whole payload again for each of them. Completed jobs capture what the work
    /// cost (`credits_used`, else the reserve, at most the reserve) and release the rest.
    static let completeSQL = """
        with done as materialized (select d.id, d.result from jsonb_to_recordset($2::jsonb) as d(id uuid, result jsonb)),
        changed as (
            update public.jobs j
            set state = 'completed', result = d.result, progress = 1, finished_at = now(),
                lease_owner = null, lease_expires_at = null, snooze_state = null
            from done d
            where j.id = any(array(select k.id from done k)) and j.id = d.id and j.lease_owner = $1
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at,
                      j.user_id, j.credits_reserved, j.credits_used,
                      j.user_id as run_user, j.job_class as run_class, j.provider as run_provider
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        ), settled as (
            -- The function is called only when a job held credits, so system jobs pay nothing.
            select reeld.settle_credits(m.moves) as n
            from (select array_agg((c.id, c.user_id, c.credits_reserved, coalesce(c.credits_used, c.credits_reserved))::reeld.credit_settlement) as moves
                  from changed c where c.credits_reserved > 0) m
            where m.moves is not null
        ), run_ends as materialized (
            -- Only users' jobs are counted; system jobs are unlimited (the plain claim).
            select c.run_user, c.run_class, c.run_provider, count(*)::int as n
            from changed c where c.run_user is not null
            group by 1, 2, 3
        ), lanes_ended as (
            insert into reeld.lane_ends as e (user_id, job_class, ended)
            select q.run_user, q.run_class, sum(q.n) from run_ends q
            group by 1, 2 order by 1, 2
            on conflict (user_id, job_class) do update set ended = e.ended + excluded.ended
            returning 1
        ), providers_ended as (
            -- After the lanes (the one-time condition runs lanes_ended first): a statement
            -- runs the CTEs nobody reads in an order of its own.
            insert into reeld.provider_ends as e (name, ended)
            select q.run_provider, sum(q.n) from run_ends q
            where q.run_provider is not null and (select count(*) from lanes_ended) >= 0
            group by 1 order by 1
            on conflict (name) do update set ended = e.ended + excluded.ended
        )
        select changed.* from changed, published, (select count(*) from settled) settled
        """

    /// Records a failed attempt: retryable after `delay`, or failed when the error is permanent
    /// or the attempts are used up (its reserved credits are then released). A throttled job
    /// goes back without spending the attempt, and throttles its provider on every node until
    /// the error's Retry-After, or `throttleBackoff` after the provider's consecutive 429s.
    /// Returns the new state, or nil if this owner no longer held the lease.
    @discardableResult
    public func fail(owner: String, job: UUID, error: JobError, delay: Duration) async throws -> JobState? {
        let rows = try await database.query(Self.failSQL,
            [owner, job, error.message, error.failureClass.rawValue, delay.seconds, clock.now(), error.detail ?? .null,
             error.retryAfter?.seconds, throttleBackoff.base.seconds, throttleBackoff.cap.seconds])
        return try rows.first.map { JobState(rawValue: try $0.string("state"))! }
    }

    /// $1 owner, $2 job, $3 message, $4 failure class, $5 delay in seconds, $6 now (nil: the
    /// database's), $7 detail, $8 Retry-After in seconds, $9 and $10 the throttle backoff's base
    /// and cap in seconds. A job that fails for good releases its reserve.
    static let failSQL = """
        with target as (select provider from public.jobs where id = $2::uuid and lease_owner = $1),
        throttle as (
            -- A provider's 429 stops every node from starting its jobs (reeld.throttle_provider).
            select reeld.throttle_provider(t.provider, $6::timestamptz, $8::double precision,
                                           $9::double precision, $10::double precision) as until
            from target t where $4 = 'throttled' and t.provider is not null
        ),
        changed as (
            update public.jobs j
            set state = case
                    when $4::text = 'throttled' then 'retryable'
                    when $4 = 'permanent' or attempt >= max_attempts then 'failed'
                    else 'retryable' end::public.job_state,
                attempt = case when $4 = 'throttled' then greatest(attempt - 1, 0) else attempt end,
                run_at = greatest(coalesce($6::timestamptz, now()) + make_interval(secs => $5::double precision),
                                  (select until from throttle)),
                finished_at = case when $4 <> 'throttled' and ($4 = 'permanent' or attempt >= max_attempts) then now() end,
                errors = errors || jsonb_build_array(jsonb_build_object(
                    'attempt', attempt, 'at', now(), 'class', $4::text, 'error', $3::text, 'detail', $7::jsonb)),
                lease_owner = null, lease_expires_at = null
            where id = $2::uuid and lease_owner = $1
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at,
                      j.user_id, j.credits_reserved, j.credits_used,
                      j.user_id as run_user, j.job_class as run_class, j.provider as run_provider
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        ), settled as (
            select reeld.settle_credits(m.moves) as n
            from (select array_agg((c.id, c.user_id, c.credits_reserved, null)::reeld.credit_settlement) as moves
                  from changed c where c.credits_reserved > 0 and c.state in ('failed', 'cancelled')) m
            where m.moves is not null
        ), run_ends as materialized (
            -- Only users' jobs are counted; system jobs are unlimited (the plain claim).
            select c.run_user, c.run_class, c.run_provider, count(*)::int as n
            from changed c where c.run_user is not null
            group by 1, 2, 3
        ), lanes_ended as (
            insert into reeld.lane_ends as e (user_id, job_class, ended)
            select q.run_user, q.run_class, sum(q.n) from run_ends q
            group by 1, 2 order by 1, 2
            on conflict (user_id, job_class) do update set ended = e.ended + excluded.ended
            returning 1
        ), providers_ended as (
            -- After the lanes (the one-time condition runs lanes_ended first): a statement
            -- runs the CTEs nobody reads in an order of its own.
            insert into reeld.provider_ends as e (name, ended)
            select q.run_provider, sum(q.n) from run_ends q
            where q.run_provider is not null and (select count(*) from lanes_ended) >= 0
            group by 1 order by 1
            on conflict (name) do update set ended = e.ended + excluded.ended
        )
        select changed.* from changed, published, (select count(*) from settled) settled
        """

    /// Parks a running job while a provider works. Spends no attempt: the next claim keeps it.
    /// If a child ended while the job ran (`wake_requested`), it is due at once instead.
    @discardableResult
    public func snooze(owner: String, job: UUID, for delay: Duration, state: JSONValue?) async throws -> Bool {
        let rows = try await database.query(Self.snoozeSQL, [owner, job, delay.seconds, clock.now(), state ?? .null])
        return !rows.isEmpty
    }

    /// $1 owner, $2 job, $3 delay in seconds, $4 now (nil: the database's), $5 snooze state.
    static let snoozeSQL = """
        with changed as (
            update public.jobs j
            set state = 'waiting',
                run_at = case when wake_requested then coalesce($4::timestamptz, now())
                              else coalesce($4::timestamptz, now()) + make_interval(secs => $3::double precision) end,
                wake_requested = false, snooze_state = $5::jsonb, lease_owner = null, lease_expires_at = null
            where id = $2::uuid and lease_owner = $1
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at,
                      j.user_id as run_user, j.job_class as run_class, j.provider as run_provider
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        ), run_ends as materialized (
            -- Only users' jobs are counted; system jobs are unlimited (the plain claim).
            select c.run_user, c.run_class, c.run_provider, count(*)::int as n
            from changed c where c.run_user is not null
            group by 1, 2, 3
        ), lanes_ended as (
            insert into reeld.lane_ends as e (user_id, job_class, ended)
            select q.run_user, q.run_class, sum(q.n) from run_ends q
            group by 1, 2 order by 1, 2
            on conflict (user_id, job_class) do update set ended = e.ended + excluded.ended
            returning 1
        ), providers_ended as (
            -- After the lanes (the one-time condition runs lanes_ended first): a statement
            -- runs the CTEs nobody reads in an order of its own.
            insert into reeld.provider_ends as e (name, ended)
            select q.run_provider, sum(q.n) from run_ends q
            where q.run_provider is not null and (select count(*) from lanes_ended) >= 0
            group by 1 order by 1
            on conflict (name) do update set ended = e.ended + excluded.ended
        )
        select changed.* from changed, published
        """

    /// Marks a running job cancelled once its worker has stopped.
    public func acknowledgeCancel(owner: String, job: UUID) async throws {
        try await database.query(Self.acknowledgeCancelSQL, [owner, job])
    }

    /// $1 owner, $2 job. The cancelled job releases its reserve.
    static let acknowledgeCancelSQL = """
        with changed as (
            update public.jobs j set state = 'cancelled', finished_at = now(), lease_owner = null, lease_expires_at = null
            where id = $2::uuid and lease_owner = $1
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at,
                      j.user_id, j.credits_reserved, j.credits_used,
                      j.user_id as run_user, j.job_class as run_class, j.provider as run_provider
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        ), settled as (
            select reeld.settle_credits(m.moves) as n
            from (select array_agg((c.id, c.user_id, c.credits_reserved, null)::reeld.credit_settlement) as moves
                  from changed c where c.credits_reserved > 0 and c.state in ('failed', 'cancelled')) m
            where m.moves is not null
        ), run_ends as materialized (
            -- Only users' jobs are counted; system jobs are unlimited (the plain claim).
            select c.run_user, c.run_class, c.run_provider, count(*)::int as n
            from changed c where c.run_user is not null
            group by 1, 2, 3
        ), lanes_ended as (
            insert into reeld.lane_ends as e (user_id, job_class, ended)
            select q.run_user, q.run_class, sum(q.n) from run_ends q
            group by 1, 2 order by 1, 2
            on conflict (user_id, job_class) do update set ended = e.ended + excluded.ended
            returning 1
        ), providers_ended as (
            -- After the lanes (the one-time condition runs lanes_ended first): a statement
            -- runs the CTEs nobody reads in an order of its own.
            insert into reeld.provider_ends as e (name, ended)
            select q.run_provider, sum(q.n) from run_ends q
            where q.run_provider is not null and (select count(*) from lanes_ended) >= 0
            group by 1 order by 1
            on conflict (name) do update set ended = e.ended + excluded.ended
        )
        select changed.* from changed, published, (select count(*) from settled) settled
        """

    /// Hands leases back at shutdown: the jobs are due again at once on any node, and the
    /// interrupted attempt is not counted. A job that had snoozed goes back to waiting.
    public func release(owner: String, jobs: [UUID]) async throws {
        guard !jobs.isEmpty else { return }
        try await database.query(Self.releaseSQL, [owner, SQLArray(jobs)])
    }

    /// $1 owner, $2 jobs. A job whose cancel was requested ends cancelled and releases its reserve.
    static let releaseSQL = """
        with changed as (
            update public.jobs j
            set state = case when cancel_requested then 'cancelled'
                             when snooze_state is not null then 'waiting'
                             else 'available' end::public.job_state,
                attempt = case when snooze_state is not null then attempt else greatest(attempt - 1, 0) end,
                finished_at = case when cancel_requested then now() end,
                run_at = now(), lease_owner = null, lease_expires_at = null
            where id = any($2::uuid[]) and lease_owner = $1
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at,
                      j.user_id, j.credits_reserved, j.credits_used,
                      j.user_id as run_user, j.job_class as run_class, j.provider as run_provider
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        ), settled as (
            select reeld.settle_credits(m.moves) as n
            from (select array_agg((c.id, c.user_id, c.credits_reserved, null)::reeld.credit_settlement) as moves
                  from changed c where c.credits_reserved > 0 and c.state in ('failed', 'cancelled')) m
            where m.moves is not null
        ), run_ends as materialized (
            -- Only users' jobs are counted; system jobs are unlimited (the plain claim).
            select c.run_user, c.run_class, c.run_provider, count(*)::int as n
            from changed c where c.run_user is not null
            group by 1, 2, 3
        ), lanes_ended as (
            insert into reeld.lane_ends as e (user_id, job_class, ended)
            select q.run_user, q.run_class, sum(q.n) from run_ends q
            group by 1, 2 order by 1, 2
            on conflict (user_id, job_class) do update set ended = e.ended + excluded.ended
            returning 1
        ), providers_ended as (
            -- After the lanes (the one-time condition runs lanes_ended first): a statement
            -- runs the CTEs nobody reads in an order of its own.
            insert into reeld.provider_ends as e (name, ended)
            select q.run_provider, sum(q.n) from run_ends q
            where q.run_provider is not null and (select count(*) from lanes_ended) >= 0
            group by 1 order by 1
            on conflict (name) do update set ended = e.ended + excluded.ended
        )
        select changed.* from changed, published, (select count(*) from settled) settled
        """

    // MARK: Operators and the studio

    /// Cancels a job: a queued one at once (its reserved credits released); a running one is
    /// flagged and its worker stops at its next heartbeat. Returns the state after the call, or
    /// nil when the job does not exist.
    public func cancel(job: UUID) async throws -> JobState? {
        try await cancel(jobs: [job])[job]
    }

    /// Cancels several jobs in one statement, as `cancel(job:)` does one. Returns the state of
    /// each job that exists after the call.
    public func cancel(jobs: [UUID]) async throws -> [UUID: JobState] {
        guard !jobs.isEmpty else { return [:] }
        let rows = try await database.query(Self.cancelSQL, [SQLArray(jobs)])
        var states: [UUID: JobState] = [:]
        for row in rows { states[try row.uuid("id")] = JobState(rawValue: try row.string("state"))! }
        return states
    }

    /// $1 jobs. They are locked in id order (`target`), so that two batches that overlap cannot
    /// deadlock. Running jobs are only flagged; they end (and release their reserve) when their
    /// worker acknowledges the cancel.
    static let cancelSQL = """
        with target as (select id, state from public.jobs where id = any($1::uuid[]) order by id for update),
        changed as (
            update public.jobs j
            set state = case when t.state in ('available', 'retryable', 'waiting') then 'cancelled' else t.state end,
                cancel_requested = (t.state = 'running') or j.cancel_requested,
                finished_at = case when t.state in ('available', 'retryable', 'waiting') then now() else j.finished_at end
            from target t
            where j.id = t.id
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at,
                      j.user_id, j.credits_reserved, j.credits_used
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        ), settled as (
            select reeld.settle_credits(m.moves) as n
            from (select array_agg((c.id, c.user_id, c.credits_reserved, null)::reeld.credit_settlement) as moves
                  from changed c where c.credits_reserved > 0 and c.state in ('failed', 'cancelled')) m
            where m.moves is not null
        )
        select changed.* from changed, published, (select count(*) from settled) settled
        """

    /// Puts a failed or cancelled job back in the queue with one more attempt; its error history
    /// stays. Its credits are not reserved again: the reserve was released when it ended, so
    /// an operator's retry runs at no charge.
    public func retry(job: UUID) async throws -> Bool {
        let rows = try await database.query(Self.retrySQL, [job])
        return !rows.isEmpty
    }

    /// $1 job.
    static let retrySQL = """
        with changed as (
            update public.jobs j
            set state = 'available', run_at = now(), finished_at = null, cancel_requested = false,
                max_attempts = greatest(max_attempts, attempt + 1)
            where id = $1::uuid and state in ('failed', 'cancelled')
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        )
        select changed.* from changed, published
        """

    // MARK: Housekeeping

    /// Returns jobs whose lease expired (their node died or hung) to the queue, counting the
    /// attempt. Served by `jobs_lease_idx`. A live node's heartbeats keep its leases fresh, so
    /// its jobs are never touched however long they run.
    public func rescueExpired() async throws -> [UUID] {
        let rows = try await database.query(Self.rescueSQL, [clock.now()])
        return try rows.map { try $0.uuid("id") }
    }

    /// $1 now (nil: the database's).
    static let rescueSQL = """
        with changed as (
            update public.jobs j
            set state = case when cancel_requested then 'cancelled'
                             when attempt >= max_attempts then 'failed'
                             else 'retryable' end::public.job_state,
                finished_at = case when cancel_requested or attempt >= max_attempts then now() end,
                run_at = coalesce($1::timestamptz, now()),
                errors = errors || jsonb_build_array(jsonb_build_object(
                    'attempt', attempt, 'at', now(), 'class', 'transient',
                    'error', 'lease expired: node ' || lease_owner || ' stopped heartbeating')),
                lease_owner = null, lease_expires_at = null
            where state = 'running' and lease_expires_at < coalesce($1::timestamptz, now())
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at,
                      j.user_id, j.credits_reserved, j.credits_used,
                      j.user_id as run_user, j.job_class as run_class, j.provider as run_provider
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        ), settled as (
            select reeld.settle_credits(m.moves) as n
            from (select array_agg((c.id, c.user_id, c.credits_reserved, null)::reeld.credit_settlement) as moves
                  from changed c where c.credits_reserved > 0 and c.state in ('failed', 'cancelled')) m
            where m.moves is not null
        ), run_ends as materialized (
            -- Only users' jobs are counted; system jobs are unlimited (the plain claim).
            select c.run_user, c.run_class, c.run_provider, count(*)::int as n
            from changed c where c.run_user is not null
            group by 1, 2, 3
        ), lanes_ended as (
            insert into reeld.lane_ends as e (user_id, job_class, ended)
            select q.run_user, q.run_class, sum(q.n) from run_ends q
            group by 1, 2 order by 1, 2
            on conflict (user_id, job_class) do update set ended = e.ended + excluded.ended
            returning 1
        ), providers_ended as (
            -- After the lanes (the one-time condition runs lanes_ended first): a statement
            -- runs the CTEs nobody reads in an order of its own.
            insert into reeld.provider_ends as e (name, ended)
            select q.run_provider, sum(q.n) from run_ends q
            where q.run_provider is not null and (select count(*) from lanes_ended) >= 0
            group by 1 order by 1
            on conflict (name) do update set ended = e.ended + excluded.ended
        )
        select changed.* from changed, published, (select count(*) from settled) settled
        """

    /// Deletes (or archives) finished jobs older than `retention`, at most `limit` per call.
    /// Served by `jobs_finished_idx`. Idempotency keys are remembered as long as their job is.
    public func prune(olderThan retention: Duration, archive: Bool, limit: Int = 10_000) async throws -> Int {
        let rows = try await database.query(archive ? Self.pruneArchivingSQL : Self.pruneSQL, [clock.now(), retention.seconds, limit])
        return max(rows.affectedRows, rows.count)
    }

    /// $1 now (nil: the database's), $2 retention in seconds, $3 limit.
    static let pruneSQL = """
        with doomed as (
            select id from public.jobs
            where state in ('completed', 'failed', 'cancelled')
              and finished_at < coalesce($1::timestamptz, now()) - make_interval(secs => $2::double precision)
            limit $3::int
            for update skip locked
        ), gone as (
            delete from public.jobs j using doomed d where j.id = d.id returning j.*
        )
        select 1 from gone
        """

    /// As `pruneSQL`, copying the pruned rows into `reeld.jobs_archive`.
    static let pruneArchivingSQL = """
        with doomed as (
            select id from public.jobs
            where state in ('completed', 'failed', 'cancelled')
              and finished_at < coalesce($1::timestamptz, now()) - make_interval(secs => $2::double precision)
            limit $3::int
            for update skip locked
        ), gone as (
            delete from public.jobs j using doomed d where j.id = d.id returning j.*
        )
        insert into reeld.jobs_archive select * from gone
        """
}
