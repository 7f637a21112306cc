import Foundation
import Logging
import ReelCore
import ReelDB

/// The job engine's SQL: submit, claim, heartbeat, complete, fail, snooze, cancel, rescue, prune.
///
/// Every state change is one statement, guarded by the attempt's lease token
/// (`lease_token = $token`, see `JobLease`) where it heartbeats or ends an attempt: an attempt
/// whose lease was taken away can never extend, complete, fail, snooze or hand back the job
/// again, even when the same node leased it again, so no job runs twice to completion. A lease
/// is set exactly while a job is running (a CHECK constraint holds the schema to it), so the
/// guard needs no `state = 'running'`, and must not have one: that term lets the planner drive
/// these updates from `jobs_lease_idx`, whose dead entries pile up under load, instead of
/// probing the primary key by id.
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
                priority: try row.int("priority"), createdAt: try row.epochDate("created"),
                leaseToken: try row.uuid("lease_token"), provider: try row.optionalString("provider"))
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

    /// Extends the leases of the attempts this node runs and records their progress, in one
    /// statement that never waits for a row lock and is cut off well within a lease
    /// (`heartbeatTimeout`): a row someone else holds locked is passed over until the next
    /// beat, and does not hold back the other jobs' leases. Returns the attempts whose cancel
    /// was requested, and those whose lease was lost.
    public func heartbeat(_ jobs: [JobLease: Double?], lease: Duration) async throws -> HeartbeatResult {
        guard !jobs.isEmpty else { return HeartbeatResult(cancelRequested: [], lost: []) }
        let beat = JSONValue.array(jobs.map { held, value in
            .object(["id": .string(held.job.lowercasedText), "token": .string(held.token.lowercasedText),
                     "progress": value.map { JSONValue.double(min(max($0, 0), 1)) } ?? .null])
        })
        let now = clock.now()
        let bound = Int64(Self.heartbeatTimeout(lease: lease).seconds * 1000)
        let rows = try await database.withConnection { conn -> PostgresRows in
            // SET LOCAL: the bounds end with this transaction, whatever happens to it. The lock
            // timeout also bounds the commit's wait for the notification queue.
            try conn.execute("begin; set local statement_timeout = \(bound); set local lock_timeout = \(bound)")
            do {
                let rows = try conn.query(Self.heartbeatSQL, [beat, now, lease.seconds])
                try conn.execute("commit")
                return rows
            } catch {
                if conn.isHealthy { _ = try? conn.execute("rollback") }
                throw error
            }
        }
        var cancel = Set<JobLease>(), lost = Set<JobLease>()
        for row in rows {
            let held = JobLease(job: try row.uuid("id"), token: try row.uuid("token"))
            if try row.bool("lost") { lost.insert(held) } else if try row.bool("cancel_requested") { cancel.insert(held) }
        }
        return HeartbeatResult(cancelRequested: cancel, lost: lost)
    }

    /// How long one heartbeat may take: a sixth of the lease (at least a second), so that a
    /// stalled beat leaves time for the next ones before any lease runs out.
    static func heartbeatTimeout(lease: Duration) -> Duration {
        max(.seconds(1), lease / 6)
    }

    /// $1 `[{id, token, progress}]` (progress null: unchanged), $2 now (nil: the database's), $3
    /// the lease in seconds. The rows are found by primary key (as in completeSQL) and locked
    /// SKIP LOCKED: a row locked right now is being ended by this node's own commit, cancelled,
    /// or held by someone's open transaction; waiting for it would stall every lease of the node
    /// behind it (and risk a deadlock with its own commits), while the next beat comes well
    /// within the lease. The lease and the progress are written in one update; only a change
    /// of progress is published (a lease extension changes neither state nor progress). Lost
    /// leases are read from the statement's snapshot without a lock, so a row skipped because
    /// it is locked still shows whose lease it is.
    static let heartbeatSQL = """
        with beat as materialized (
            select b.id, b.token, b.progress from jsonb_to_recordset($1::jsonb) as b(id uuid, token uuid, progress real)
        ), held as materialized (
            select j.id, b.token, j.progress as before, coalesce(b.progress, j.progress) as progress
            from public.jobs j join beat b on b.id = j.id
            where j.id = any(array(select k.id from beat k)) and j.lease_token = b.token
            for update of j skip locked
        ), changed as (
            update public.jobs j
            set lease_expires_at = coalesce($2::timestamptz, now()) + make_interval(secs => $3::double precision),
                progress = h.progress
            from held h
            where j.id = any(array(select k.id from held k)) and j.id = h.id
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at, j.cancel_requested, h.token, h.before
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c where c.progress <> c.before
        ), leases as materialized (
            -- The leases as the statement's snapshot shows them, by primary key.
            select j.id, j.lease_token from public.jobs j where j.id = any(array(select k.id from beat k))
        )
        select c.id, c.token, c.cancel_requested, false as lost from changed c, (select count(*) from published) p
        union all
        select b.id, b.token, false, true from beat b
        where not exists (select from leases k where k.id = b.id and k.lease_token = b.token)
        """

    /// Records one running job's progress at once (renders report every second instead of
    /// waiting for the heartbeat; the change is published on `reeld_events`) and returns whether
    /// a cancel was requested. Nil when the attempt no longer holds the job.
    public func recordProgress(_ lease: JobLease, progress: Double) async throws -> Bool? {
        // By primary key; the lease guard keeps an attempt that lost the job from writing over the new one.
        try await database.query(Self.recordProgressSQL, [lease.job, lease.token, min(max(progress, 0), 1)])
            .first.map { try $0.bool("cancel_requested") }
    }

    /// $1 job, $2 lease token, $3 progress.
    static let recordProgressSQL = """
        with changed as (
            update public.jobs j set progress = $3::real
            where id = $1::uuid and lease_token = $2::uuid
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
    public func complete(_ completions: [(lease: JobLease, result: JSONValue)]) async throws -> Set<UUID> {
        guard !completions.isEmpty else { return [] }
        let payload = JSONValue.array(completions.map {
            .object(["id": .string($0.lease.job.lowercasedText), "token": .string($0.lease.token.lowercasedText), "result": $0.result])
        })
        let rows = try await database.query(Self.completeSQL, [payload])
        return Set(try rows.map { try $0.uuid("id") })
    }

    /// $1 `[{id, token, result}]`. The rows are found by primary key, whatever the statistics
    /// say: joined with the payload directly, a plan made while no row held a lease in every
    /// analyzed row (estimate: one row holds this token) scans the table for the token's jobs and
    /// parses the whole payload again for each of them. Completed jobs capture what the work
    /// cost (`credits_used`, else the reserve, at most the reserve) and release the rest.
    static let completeSQL = """
        with done as materialized (select d.id, d.token, d.result from jsonb_to_recordset($1::jsonb) as d(id uuid, token uuid, result jsonb)),
        changed as (
            update public.jobs j
            set state = 'completed', result = d.result, progress = 1, finished_at = now(),
                lease_owner = null, lease_token = null, lease_expires_at = null, snooze_state = null
            from done d
            where j.id = any(array(select k.id from done k)) and j.id = d.id and j.lease_token = d.token
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
        ), \(countRunEndsSQL)
        select changed.* from changed, published, (select count(*) from settled) settled
        """

    /// Records a failed attempt: retryable after `delay`, or failed when the error is permanent
    /// or the attempts are used up (its reserved credits are then released). A throttled job
    /// goes back without spending the attempt, and throttles its provider on every node until
    /// the error's Retry-After, or `throttleBackoff` after the provider's consecutive 429s;
    /// once its attempts have been throttled without a break for longer than its kind's
    /// throttled deadline (`reeld.job_kinds`), it fails instead, naming the deadline. A job
    /// whose cancel was requested while it ran ends cancelled instead (its reserve released):
    /// the cancel wins over a retry. Returns the new state, or nil if the attempt no longer held
    /// the lease.
    @discardableResult
    public func fail(_ lease: JobLease, error: JobError, delay: Duration) async throws -> JobState? {
        let rows = try await database.query(Self.failSQL,
            [lease.token, lease.job, error.message, error.failureClass.rawValue, delay.seconds, clock.now(), error.detail ?? .null,
             error.retryAfter?.seconds, throttleBackoff.base.seconds, throttleBackoff.cap.seconds])
        return try rows.first.map { JobState(rawValue: try $0.string("state"))! }
    }

    /// $1 lease token, $2 job, $3 message, $4 failure class, $5 delay in seconds, $6 now (nil:
    /// the database's), $7 detail, $8 Retry-After in seconds, $9 and $10 the throttle backoff's
    /// base and cap in seconds. A job that fails for good, or is cancelled, releases its reserve.
    ///
    /// Lanes before providers (the lock order in docs/fair-share.md): a throttled job that goes
    /// back makes its lane due (the trigger `jobs_lane_due` locks the lane's row at the end of
    /// the statement), after the throttle locked the provider's row; a claim holds lanes and
    /// waits for providers' rows. So the lane's row is locked first (`lane`), before the throttle.
    static let failSQL = """
        with target as (select provider, user_id, job_class from public.jobs where id = $2::uuid and lease_token = $1::uuid),
        deadline as materialized (
            -- A throttled attempt past its kind's throttled deadline (job_kinds_pkey), counted from
            -- the first of an unbroken run of throttled attempts: null or false otherwise.
            select coalesce(j.throttled_since, coalesce($6::timestamptz, now())) as since, k.throttled_deadline,
                   $4 = 'throttled' and coalesce($6::timestamptz, now())
                       >= coalesce(j.throttled_since, coalesce($6::timestamptz, now())) + k.throttled_deadline as past
            from public.jobs j join reeld.job_kinds k on k.kind = j.kind
            where j.id = $2::uuid and j.lease_token = $1::uuid
        ),
        lane as (
            select from reeld.lanes l, target t
            where $4 = 'throttled' and t.provider is not null and t.user_id is not null
              and l.user_id = t.user_id and l.job_class = t.job_class
            for update of l
        ),
        throttle as (
            -- A provider's 429 stops every node from starting its jobs (reeld.throttle_provider).
            select reeld.throttle_provider(t.provider, $6::timestamptz, $8::double precision,
                                           $9::double precision, $10::double precision) as until
            from target t where $4 = 'throttled' and t.provider is not null and (select count(*) from lane) >= 0
        ),
        changed as (
            update public.jobs j
            set state = case
                    when cancel_requested then 'cancelled'
                    when d.past then 'failed'
                    when $4::text = 'throttled' then 'retryable'
                    when $4 = 'permanent' or attempt >= max_attempts then 'failed'
                    else 'retryable' end::public.job_state,
                attempt = case when $4 = 'throttled' and not cancel_requested and not coalesce(d.past, false)
                               then greatest(attempt - 1, 0) else attempt end,
                run_at = greatest(coalesce($6::timestamptz, now()) + make_interval(secs => $5::double precision),
                                  (select until from throttle)),
                finished_at = case when cancel_requested or d.past or ($4 <> 'throttled' and ($4 = 'permanent' or attempt >= max_attempts))
                                   then now() end,
                errors = errors || jsonb_build_array(case
                    when d.past and not cancel_requested then jsonb_build_object(
                        'attempt', attempt, 'at', now(), 'class', 'deadline',
                        'error', format('throttled deadline passed: a %s job may be held back by its provider''s 429s %s without a break, and this one has been since %s',
                                        j.kind, d.throttled_deadline, d.since),
                        'detail', jsonb_build_object('deadline', 'throttled', 'seconds', extract(epoch from d.throttled_deadline),
                                                     'since', d.since, 'last_error', $3::text, 'last_detail', $7::jsonb))
                    else jsonb_build_object('attempt', attempt, 'at', now(), 'class', $4::text, 'error', $3::text, 'detail', $7::jsonb) end),
                throttled_since = case when $4 = 'throttled' then d.since end,
                lease_owner = null, lease_token = null, lease_expires_at = null
            from deadline d
            where id = $2::uuid and lease_token = $1::uuid
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
        ), \(countRunEndsSQL)
        select changed.* from changed, published, (select count(*) from settled) settled
        """

    /// Parks a running job while a provider works. Spends no attempt: the next claim keeps it.
    /// If a child ended while the job ran (`wake_requested`), it is due at once instead. A job
    /// whose cancel was requested while it ran ends cancelled instead (its reserve released).
    /// A job that has waited longer than its kind's waiting deadline (`reeld.job_kinds`,
    /// counted from its first snooze) fails instead, naming the deadline, and releases its
    /// reserve. Returns false if the attempt no longer held the lease.
    @discardableResult
    public func snooze(_ lease: JobLease, for delay: Duration, state: JSONValue?) async throws -> Bool {
        let rows = try await database.query(Self.snoozeSQL, [lease.token, lease.job, delay.seconds, clock.now(), state ?? .null])
        return !rows.isEmpty
    }

    /// $1 lease token, $2 job, $3 delay in seconds, $4 now (nil: the database's), $5 snooze state.
    /// `deadline` reads the job (by primary key, with its lease guard) and its kind's waiting
    /// deadline (job_kinds_pkey); `past` is null when the kind has none.
    static let snoozeSQL = """
        with deadline as materialized (
            select coalesce(j.waiting_since, coalesce($4::timestamptz, now())) as since, k.waiting_deadline,
                   coalesce($4::timestamptz, now()) >= coalesce(j.waiting_since, coalesce($4::timestamptz, now())) + k.waiting_deadline as past
            from public.jobs j join reeld.job_kinds k on k.kind = j.kind
            where j.id = $2::uuid and j.lease_token = $1::uuid
        ), changed as (
            update public.jobs j
            set state = case when cancel_requested then 'cancelled'
                             when d.past then 'failed'
                             else 'waiting' end::public.job_state,
                run_at = case when wake_requested then coalesce($4::timestamptz, now())
                              else coalesce($4::timestamptz, now()) + make_interval(secs => $3::double precision) end,
                finished_at = case when cancel_requested or d.past then now() end,
                errors = case when d.past and not cancel_requested then errors || jsonb_build_array(jsonb_build_object(
                                  'attempt', attempt, 'at', now(), 'class', 'deadline',
                                  'error', format('waiting deadline passed: a %s job may wait %s in all, and this one has waited since %s',
                                                  j.kind, d.waiting_deadline, d.since),
                                  'detail', jsonb_build_object('deadline', 'waiting', 'seconds', extract(epoch from d.waiting_deadline),
                                                               'since', d.since)))
                              else errors end,
                waiting_since = d.since, throttled_since = null,
                wake_requested = false, snooze_state = $5::jsonb, lease_owner = null, lease_token = null, lease_expires_at = null
            from deadline d
            where id = $2::uuid and lease_token = $1::uuid
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at,
                      j.user_id, j.credits_reserved,
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
        ), \(countRunEndsSQL)
        select changed.* from changed, published, (select count(*) from settled) settled
        """

    /// Marks a running job cancelled once its worker has stopped.
    public func acknowledgeCancel(_ lease: JobLease) async throws {
        try await database.query(Self.acknowledgeCancelSQL, [lease.token, lease.job])
    }

    /// $1 lease token, $2 job. The cancelled job releases its reserve.
    static let acknowledgeCancelSQL = """
        with changed as (
            update public.jobs j
            set state = 'cancelled', finished_at = now(), lease_owner = null, lease_token = null, lease_expires_at = null
            where id = $2::uuid and lease_token = $1::uuid
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
        ), \(countRunEndsSQL)
        select changed.* from changed, published, (select count(*) from settled) settled
        """

    /// Hands leases back at shutdown: the jobs are due again at once on any node, and the
    /// interrupted attempt is not counted. A job that had snoozed goes back to waiting.
    public func release(_ leases: [JobLease]) async throws {
        guard !leases.isEmpty else { return }
        try await database.query(Self.releaseSQL, [SQLArray(leases.map(\.job)), SQLArray(leases.map(\.token))])
    }

    /// $1 jobs, $2 their lease tokens (pairwise). A job whose cancel was requested ends cancelled
    /// and releases its reserve.
    static let releaseSQL = """
        with lanes_locked as materialized (
            -- The jobs' lanes in key order before any job, as the rescue does.
            select 1 from reeld.lanes l
            where (l.user_id, l.job_class) in (select user_id, job_class from public.jobs where id = any($1::uuid[]) and user_id is not null)
            order by l.user_id, l.job_class
            for update of l
        ), changed as (
            update public.jobs j
            set state = case when cancel_requested then 'cancelled'
                             when snooze_state is not null then 'waiting'
                             else 'available' end::public.job_state,
                attempt = case when snooze_state is not null then attempt else greatest(attempt - 1, 0) end,
                finished_at = case when cancel_requested then now() end,
                run_at = now(), lease_owner = null, lease_token = null, lease_expires_at = null
            from unnest($1::uuid[], $2::uuid[]) as r(id, token)
            where j.id = any($1::uuid[]) and j.id = r.id and j.lease_token = r.token
              and (select count(*) from lanes_locked) >= 0
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
        ), \(countRunEndsSQL)
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
    /// worker acknowledges the cancel. The new state is decided from the updated row's own state,
    /// never from `target`'s: when the lock waited for a job's end (a completion, a rescue), the
    /// two were seen to differ, and the row got the state read after the wait on top of the
    /// lease read before it (refused by the lease constraint, 23514).
    static let cancelSQL = """
        with target as (select id from public.jobs where id = any($1::uuid[]) order by id for update),
        changed as (
            update public.jobs j
            set state = case when j.state in ('available', 'retryable', 'waiting') then 'cancelled' else j.state end,
                cancel_requested = (j.state = 'running') or j.cancel_requested,
                finished_at = case when j.state in ('available', 'retryable', 'waiting') then now() else j.finished_at end
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
                max_attempts = greatest(max_attempts, attempt + 1), waiting_since = null, throttled_since = null
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
        with lanes_locked as materialized (
            -- The lanes of the jobs it returns, in key order, before any job: a job made due
            -- locks its lane (jobs_lane_due), and taking them in the jobs' order could hold a
            -- later lane while waiting for an earlier one, crosswise with a client (40P01).
            select 1 from reeld.lanes l
            where (l.user_id, l.job_class) in (
                select user_id, job_class from public.jobs
                where state = 'running' and lease_expires_at < coalesce($1::timestamptz, now()) and user_id is not null)
            order by l.user_id, l.job_class
            for update of l
        ), changed as (
            update public.jobs j
            set state = case when cancel_requested then 'cancelled'
                             when attempt >= max_attempts then 'failed'
                             else 'retryable' end::public.job_state,
                finished_at = case when cancel_requested or attempt >= max_attempts then now() end,
                run_at = coalesce($1::timestamptz, now()),
                errors = errors || jsonb_build_array(jsonb_build_object(
                    'attempt', attempt, 'at', now(), 'class', 'transient',
                    'error', 'lease expired: node ' || lease_owner || ' stopped heartbeating')),
                lease_owner = null, lease_token = null, lease_expires_at = null
            where state = 'running' and lease_expires_at < coalesce($1::timestamptz, now())
              and (select count(*) from lanes_locked) >= 0
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
        ), \(countRunEndsSQL)
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
