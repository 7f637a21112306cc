import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Synchronization
import Testing

/// The engine's SQL against a real PostgreSQL, with a manual clock so that leases, backoff and
/// schedules are checked without sleeping.
@Suite struct JobQueueTests {
    let database: Database
    let clock = ManualClock(Date(timeIntervalSince1970: 1_900_000_000))
    let queue: JobQueue

    init() throws {
        database = try TestDatabase.makePool()
        queue = JobQueue(database: database, clock: clock)
    }

    func state(_ id: UUID) async throws -> JobState {
        JobState(rawValue: try await database.query("select state from jobs where id = $1::uuid", [id])[0].string("state"))!
    }

    /// Submits a job due at the manual clock's time.
    func submit(_ kind: JobKind = .noop, key: String? = nil, priority: Int = 100, maxAttempts: Int? = nil) async throws -> UUID {
        try await queue.submit(JobSubmission(kind: kind, args: kind == .sleep ? ["seconds": 1] : [:], idempotencyKey: key,
                                             priority: priority, runAt: clock.now(), maxAttempts: maxAttempts)).jobID
    }

    @Test func sameIdempotencyKeyReturnsTheSameJobAndNoSecondRow() async throws {
        let first = try await queue.submit(JobSubmission(kind: .noop, idempotencyKey: "film-42"))
        let second = try await queue.submit(JobSubmission(kind: .noop, idempotencyKey: "film-42"))
        #expect(first.created && !second.created)
        #expect(first.jobID == second.jobID)
        #expect(try await database.query("select count(*) as n from jobs")[0].int("n") == 1)
    }

    /// Eight submits of one key, each on its own connection, all past the replay check (which
    /// finds no job) before any inserts: a lock on `jobs` that blocks inserts holds them until
    /// every one of them waits on it, then lets them go together. Only the unique index on the
    /// key can then keep the job single.
    @Test func concurrentSubmitsWithOneKeyMakeOneJob() async throws {
        let submitters = 8
        // A connection per submit, and one for the lock.
        let database = try TestDatabase.makePool(connections: submitters + 1)
        defer { database.close() }
        let queue = JobQueue(database: database)
        let locked = Answered(), unlock = Answered()
        async let holder: Void = database.withConnection { conn in
            try conn.query("begin")
            // SHARE mode conflicts with the ROW EXCLUSIVE an insert takes, not with the reads before it.
            try conn.query("lock table public.jobs in share mode")
            locked.value.store(true, ordering: .releasing)
            // Until the test lets go; bounded, so that a test that failed before letting go
            // (its async let is awaited at scope exit) cannot hang the suite.
            let deadline = Date().addingTimeInterval(300)
            while !unlock.value.load(ordering: .acquiring) && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
            try conn.query("commit")
        }
        // Generous: on a loaded machine the pool's threads and connections start slowly.
        do {
            try await Poll.until("the lock on jobs to be held", timeout: .seconds(120), interval: .milliseconds(5)) {
                locked.value.load(ordering: .acquiring)
            }
        } catch {
            unlock.value.store(true, ordering: .releasing)
            throw error
        }
        async let ids = withThrowingTaskGroup(of: UUID.self) { group in
            for _ in 0..<submitters {
                group.addTask { try await queue.submit(JobSubmission(kind: .noop, idempotencyKey: "race")).jobID }
            }
            return try await group.reduce(into: [UUID]()) { $0.append($1) }
        }
        // The barrier: every submit waits on the lock, each on its own backend.
        let observing = Database(configuration: .init(url: database.configuration.url, maxConnections: 1), logger: TestDatabase.logger)
        defer { observing.close() }
        do {
            try await Poll.until("all \(submitters) submits to wait for the lock on jobs", timeout: .seconds(120), interval: .milliseconds(5)) {
                try await observing.query(
                    """
                    select count(distinct a.pid) as n from pg_stat_activity a join pg_locks l on l.pid = a.pid
                    where a.datname = current_database() and not l.granted and l.relation = 'public.jobs'::regclass
                      and a.query like '%reeld.submit_job%'
                    """)[0].int("n") == submitters
            }
        } catch {
            unlock.value.store(true, ordering: .releasing)
            _ = try? await holder
            _ = try? await ids
            throw error
        }
        unlock.value.store(true, ordering: .releasing)
        try await holder
        let all = try await ids
        #expect(all.count == submitters)
        #expect(Set(all).count == 1, "the submits returned different jobs: \(Set(all))")
        #expect(try await database.query("select count(*) as n from jobs where idempotency_key = 'race'")[0].int("n") == 1)
        #expect(try await database.query("select count(*) as n from jobs")[0].int("n") == 1)
    }

    /// A key names one job: the same key with another kind or other args is refused, naming the
    /// key, instead of handing back the old job (and its old result) for a different request.
    @Test func aKeyReusedWithAnotherKindOrOtherArgsIsRefusedNamingTheKey() async throws {
        let user = try await TestDatabase.makeUser(database)
        func submit(_ kind: JobKind, _ args: JSONValue, user: UUID?) async throws -> SubmitReceipt {
            try await queue.submit(JobSubmission(kind: kind, args: args, userID: user, idempotencyKey: "film-42"))
        }
        let first = try await submit(.sleep, ["seconds": 1, "class": "video"], user: user)
        // The same request, its args in another order and its number spelled otherwise, is a replay.
        let replay = try await submit(.sleep, ["class": "video", "seconds": 1.0], user: user)
        #expect(replay.jobID == first.jobID && !replay.created)
        let changed: [(JobKind, JSONValue, String)] = [
            (.sleep, ["seconds": 2, "class": "video"], "args"), (.sleep, ["seconds": 1], "args"),
            (.noop, ["seconds": 1, "class": "video"], "kind"),
        ]
        for (kind, args, what) in changed {
            await #expect("\(kind) \(args)") { try await submit(kind, args, user: user) } throws: { error in
                guard case SubmitError.invalid(let message) = error else { return false }
                return message.hasPrefix("idempotency_key: \"film-42\" already names job \(first.jobID.lowercasedText)")
                    && message.contains("other \(what)")
            }
        }
        // Keys are per user: another user's (or a system job's) same key is another job.
        let other = try await submit(.sleep, ["seconds": 2], user: try await TestDatabase.makeUser(database))
        let system = try await submit(.noop, [:], user: nil)
        #expect(other.created && system.created)
        #expect(try await database.query("select count(*) as n from jobs")[0].int("n") == 3)
        #expect(try await database.query("select args from jobs where id = $1::uuid", [first.jobID])[0].json("args")
                == ["seconds": 1, "class": "video"])
    }

    /// Submits racing with one key and different args: one job, and every other submit refused
    /// (a loser that waited on the winner's insert checks the winner's args too).
    @Test func concurrentSubmitsOfOneKeyWithDifferentArgsMakeOneJobAndRefuseTheRest() async throws {
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for n in 0..<8 {
                group.addTask {
                    do {
                        _ = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": .int(Int64(n + 1))], idempotencyKey: "race"))
                        return true
                    } catch SubmitError.invalid(let message) where message.hasPrefix("idempotency_key: \"race\"") {
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        #expect(try await database.query("select count(*) as n from jobs")[0].int("n") == 1)
    }

    @Test func submitRefusesInvalidJobsNamingTheField() async throws {
        await #expect { try await queue.submit(JobSubmission(kind: JobKind("video.nonsense"))) } throws: { error in
            "\(error)".contains("kind: unknown job kind")
        }
        await #expect { try await queue.submit(JobSubmission(kind: .sleep, args: [:])) } throws: { error in
            "\(error)".contains("args.seconds")
        }
        await #expect { try await queue.submit(JobSubmission(kind: .image, args: ["prompt": "x"])) } throws: { error in
            "\(error)".contains("project_id")
        }
        await #expect { try await queue.submit(JobSubmission(kind: .noop, args: ["a"])) } throws: { error in
            "\(error)".contains("args: expected a JSON object")
        }
    }

    /// A workflow run makes a project, which must belong to someone: refused at submit, not
    /// accepted and then failed by its handler.
    @Test func aWorkflowRunWithoutAUserOrAProjectIsRefusedAtSubmit() async throws {
        await #expect { try await queue.submit(JobSubmission(kind: .workflowRun, args: ["brief": "A storm"])) } throws: { error in
            "\(error)".contains("user_id: workflow.run needs a user or a project")
        }
        #expect(try await database.query("select count(*) as n from jobs")[0].int("n") == 0)
    }

    @Test func completionsAndProgressFindTheirJobsByPrimaryKeyWhateverTheStatistics() async throws {
        // One connection, so that the statistics it reports can be flushed on demand.
        let database = try TestDatabase.makePool(connections: 1)
        let queue = JobQueue(database: database, clock: clock)
        // Analyzed while no job had an owner, the planner expects one row per owner: joined
        // with the batch's payload directly, the completion scanned the table for the owner's
        // jobs and parsed the payload again for each one it found.
        try await database.query(
            "insert into jobs (kind, max_attempts, run_at) select 'system.noop', 3, $1::timestamptz from generate_series(1, 20000)",
            [clock.now()])
        try await database.query("analyze jobs")
        let claimed = try await queue.claim(owner: "node-a", limit: 300, lease: .seconds(30))
        #expect(claimed.count == 300)

        func scans() async throws -> (sequential: Int, indexed: Int) {
            _ = try await database.query("select pg_stat_force_next_flush()")
            // The flush comes when the connection next goes idle: one more statement.
            _ = try await database.query("select 1")
            let row = try await database.query(
                "select seq_scan, idx_scan from pg_stat_user_tables where relid = 'public.jobs'::regclass")[0]
            return (try row.int("seq_scan"), try row.int("idx_scan"))
        }
        let before = try await scans()
        let halfway = Dictionary(uniqueKeysWithValues: claimed.map { ($0.lease, Double?.some(0.5)) })
        _ = try await queue.heartbeat(halfway, lease: .seconds(30))
        let done = try await queue.complete(claimed.map { (lease: $0.lease, result: JSONValue.null) })
        #expect(done.count == 300)
        let after = try await scans()
        #expect(after.indexed > before.indexed)
        #expect(after.sequential == before.sequential)
        #expect(try await database.query("select count(*) as n from jobs where state = 'completed' and progress = 1")[0].int("n") == 300)
    }

    @Test func claimTakesJobsByPriorityThenRunTimeAndSetsALease() async throws {
        let low = try await submit(priority: 500)
        let high = try await submit(priority: 10)
        let claimed = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        #expect(claimed.map(\.id) == [high])
        #expect(claimed.first?.attempt == 1)
        let row = try await database.query(
            "select lease_owner, extract(epoch from lease_expires_at) as exp from jobs where id = $1::uuid", [high])[0]
        #expect(try row.string("lease_owner") == "a")
        #expect(abs(try row.double("exp") - clock.now()!.addingTimeInterval(30).timeIntervalSince1970) < 0.01)
        #expect(try await state(low) == .available)
    }

    @Test func concurrentClaimsNeverShareAJob() async throws {
        for _ in 0..<200 { _ = try await submit() }
        let claims = try await withThrowingTaskGroup(of: [UUID].self) { group in
            for node in 0..<4 {
                group.addTask { try await queue.claim(owner: "n\(node)", limit: 80, lease: .seconds(30)).map(\.id) }
            }
            return try await group.reduce(into: [[UUID]]()) { $0.append($1) }
        }
        let all = claims.flatMap { $0 }
        #expect(all.count == 200)
        #expect(Set(all).count == 200)
    }

    @Test func futureJobsAreNotClaimedBeforeTheirTime() async throws {
        let id = try await queue.submit(JobSubmission(kind: .noop, runAt: clock.now()!.addingTimeInterval(60))).jobID
        #expect(try await queue.claim(owner: "a", limit: 10, lease: .seconds(30)).isEmpty)
        clock.advance(by: .seconds(61))
        #expect(try await queue.claim(owner: "a", limit: 10, lease: .seconds(30)).map(\.id) == [id])
    }

    @Test func expiredLeaseReturnsJobToQueueButALiveOwnersLeaseIsNeverTouched() async throws {
        let dead = try await submit()
        let alive = try await submit()
        let deadLease = try #require(try await queue.claim(owner: "dead-node", limit: 1, lease: .seconds(30)).first).lease
        let aliveLease = try #require(try await queue.claim(owner: "live-node", limit: 1, lease: .seconds(30)).first).lease
        // The live node heartbeats every 10 s for five minutes; the dead one never does.
        for _ in 0..<30 {
            clock.advance(by: .seconds(10))
            let beat = try await queue.heartbeat([aliveLease: 0.5], lease: .seconds(30))
            #expect(beat.lost.isEmpty)
            _ = try await queue.rescueExpired()
        }
        #expect(try await state(dead) == .retryable)
        #expect(try await state(alive) == .running)
        let errors = try await database.query("select errors from jobs where id = $1::uuid", [dead])[0].json("errors")
        #expect(errors.arrayValue?.first?["error"]?.stringValue?.contains("dead-node") == true)
        // The dead node's late completion is refused: the job does not complete twice.
        #expect(try await queue.complete([(deadLease, [:])]).isEmpty)
        let progress = try await database.query("select progress from jobs where id = $1::uuid", [alive])[0].double("progress")
        #expect(progress == 0.5)
    }

    /// A node's lease lapsed, its own rescuer returned the job and its own claimer took it
    /// again under the same owner name (a container's pid is often 1): the first attempt,
    /// still running, must not end or keep the second one's lease.
    @Test func aJobRetakenByTheSameNodeRefusesItsEarlierAttempt() async throws {
        let id = try await submit()
        let first = try #require(try await queue.claim(owner: "node:1", limit: 1, lease: .seconds(30)).first)
        #expect(first.id == id)
        clock.advance(by: .seconds(31))
        #expect(try await queue.rescueExpired() == [id])
        let second = try #require(try await queue.claim(owner: "node:1", limit: 1, lease: .seconds(30)).first)
        #expect(second.id == id && second.lease != first.lease)
        // The first attempt can neither extend, record progress on, complete, fail, snooze,
        // cancel nor hand back what is now the second attempt's.
        let beat = try await queue.heartbeat([first.lease: 0.9], lease: .seconds(30))
        #expect(beat.lost == [first.lease])
        #expect(try await queue.recordProgress(first.lease, progress: 0.9) == nil)
        #expect(try await queue.complete([(first.lease, [:])]).isEmpty)
        #expect(try await queue.fail(first.lease, error: JobError("late"), delay: .zero) == nil)
        #expect(try await queue.snooze(first.lease, for: .seconds(10), state: nil) == false)
        try await queue.acknowledgeCancel(first.lease)
        try await queue.release([first.lease])
        #expect(try await state(id) == .running)
        // The second attempt runs on and completes, once.
        #expect(try await queue.heartbeat([second.lease: 0.5], lease: .seconds(30)).lost.isEmpty)
        #expect(try await queue.complete([(second.lease, [:])]) == [id])
        #expect(try await state(id) == .completed)
    }

    /// A row held by someone else's open transaction (an operator's UPDATE left open) must not
    /// hold back a heartbeat: the node's other leases are extended at once, and the held job is
    /// not taken for lost.
    @Test func aLockedRowDoesNotHoldBackTheHeartbeatOfTheOtherJobs() async throws {
        let held = try await submit()
        let other = try await submit()
        let claimed = try await queue.claim(owner: "a", limit: 2, lease: .seconds(30))
        #expect(claimed.count == 2)
        let leases = Dictionary(uniqueKeysWithValues: claimed.map { ($0.lease, Double?.some(0.5)) })
        let session = try PostgresConnection(url: database.configuration.url)
        try session.execute("begin")
        try session.query("select from jobs where id = $1::uuid for update", [held])
        clock.advance(by: .seconds(20))
        let answered = Answered()
        let beat = Task {
            defer { answered.value.store(true, ordering: .releasing) }
            return try await queue.heartbeat(leases, lease: .seconds(30))
        }
        let deadline = ContinuousClock.now + .seconds(3)
        while !answered.value.load(ordering: .acquiring), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let inTime = answered.value.load(ordering: .acquiring)
        #expect(inTime, "the heartbeat waited for a locked row")
        try session.execute("rollback")
        let result = try await beat.value
        #expect(result.lost.isEmpty)
        let expires = try await database.query(
            "select extract(epoch from lease_expires_at)::double precision as at from jobs where id = $1::uuid", [other])[0].double("at")
        #expect(abs(expires - clock.now()!.addingTimeInterval(30).timeIntervalSince1970) < 0.01)
    }

    @Test func rescueHappensWithinTwoLeasePeriods() async throws {
        let id = try await submit()
        _ = try await queue.claim(owner: "gone", limit: 1, lease: .seconds(30))
        clock.advance(by: .seconds(29))
        #expect(try await queue.rescueExpired().isEmpty)
        clock.advance(by: .seconds(2))
        #expect(try await queue.rescueExpired() == [id])
    }

    @Test func failedAttemptBacksOffAndKeepsEachError() async throws {
        let id = try await submit()
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        let next = try await queue.fail(queue.lease(of: id), error: JobError("provider timed out"), delay: .seconds(30))
        #expect(next == .retryable)
        clock.advance(by: .seconds(29))
        #expect(try await queue.claim(owner: "a", limit: 1, lease: .seconds(30)).isEmpty)
        clock.advance(by: .seconds(2))
        let again = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        #expect(again.first?.attempt == 2)
        _ = try await queue.fail(queue.lease(of: id), error: JobError("provider 503"), delay: .zero)
        let errors = try await database.query("select errors from jobs where id = $1::uuid", [id])[0].json("errors").arrayValue ?? []
        #expect(errors.compactMap { $0["error"]?.stringValue } == ["provider timed out", "provider 503"])
        #expect(errors.compactMap { $0["attempt"]?.intValue } == [1, 2])
    }

    @Test func attemptsRunOutThenTheJobFails() async throws {
        let id = try await submit(maxAttempts: 2)
        for expected in [JobState.retryable, .failed] {
            _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
            #expect(try await queue.fail(queue.lease(of: id), error: JobError("boom"), delay: .zero) == expected)
        }
        #expect(try await queue.claim(owner: "a", limit: 1, lease: .seconds(30)).isEmpty)
    }

    @Test func permanentErrorFailsAtOnceWithTheReason() async throws {
        let id = try await submit()
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        let next = try await queue.fail(queue.lease(of: id), error: .permanent("content policy: prompt refused"), delay: .seconds(5))
        #expect(next == .failed)
        let row = try await database.query("select errors, finished_at is not null as done from jobs where id = $1::uuid", [id])[0]
        #expect(try row.bool("done"))
        #expect(try row.json("errors").arrayValue?.first?["class"]?.stringValue == "permanent")
    }

    @Test func throttledAttemptGoesBackWithoutSpendingIt() async throws {
        let id = try await submit(maxAttempts: 1)
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        let throttled = JobError("429", class: .throttled, retryAfter: .seconds(20))
        #expect(try await queue.fail(queue.lease(of: id), error: throttled, delay: .seconds(20)) == .retryable)
        clock.advance(by: .seconds(21))
        #expect(try await queue.claim(owner: "a", limit: 1, lease: .seconds(30)).first?.attempt == 1)
    }

    @Test func snoozeSpendsNoAttemptAndKeepsItsState() async throws {
        let id = try await submit(maxAttempts: 1)
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        for round in 0..<3 {
            #expect(try await queue.snooze(queue.lease(of: id), for: .seconds(10), state: ["task": "t-1", "round": .int(Int64(round))]))
            #expect(try await state(id) == .waiting)
            #expect(try await queue.claim(owner: "a", limit: 1, lease: .seconds(30)).isEmpty)
            clock.advance(by: .seconds(11))
            let job = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30)).first
            #expect(job?.attempt == 1)
            #expect(job?.snoozeState?["task"] == "t-1")
        }
    }

    @Test func cancelEndsAQueuedJobAtOnceAndFlagsARunningOne() async throws {
        let queued = try await submit()
        #expect(try await queue.cancel(job: queued) == .cancelled)
        let running = try await submit()
        let lease = try #require(try await queue.claim(owner: "a", limit: 1, lease: .seconds(30)).first).lease
        #expect(try await queue.cancel(job: running) == .running)
        let beat = try await queue.heartbeat([lease: nil], lease: .seconds(30))
        #expect(beat.cancelRequested == [lease])
        try await queue.acknowledgeCancel(queue.lease(of: running))
        #expect(try await state(running) == .cancelled)
        #expect(try await queue.cancel(job: running) == .cancelled)
        #expect(try await queue.cancel(job: UUID()) == nil)
    }

    @Test func recordedProgressIsWrittenAtOnceAndAnswersWithTheCancelFlag() async throws {
        let id = try await submit()
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        let lease = try await queue.lease(of: id)
        #expect(try await queue.recordProgress(lease, progress: 0.4) == false)
        func progress() async throws -> Double { try await database.query("select progress from jobs where id = $1::uuid", [id])[0].double("progress") }
        #expect(abs(try await progress() - 0.4) < 1e-6)
        #expect(try await queue.recordProgress(JobLease(job: id, token: UUID()), progress: 0.9) == nil)
        #expect(abs(try await progress() - 0.4) < 1e-6)
        _ = try await queue.cancel(job: id)
        #expect(try await queue.recordProgress(lease, progress: 0.5) == true)
    }

    @Test func retryPutsAFailedJobBackKeepingItsHistory() async throws {
        let id = try await submit(maxAttempts: 1)
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        _ = try await queue.fail(queue.lease(of: id), error: JobError("boom"), delay: .zero)
        #expect(try await queue.retry(job: id))
        let job = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30)).first
        #expect(job?.attempt == 2)
        #expect(try await database.query("select jsonb_array_length(errors) as n from jobs where id = $1::uuid", [id])[0].int("n") == 1)
    }

    @Test func aChildThatEndsWakesItsWaitingParent() async throws {
        let parent = try await submit()
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        let child = try await queue.submit(JobSubmission(kind: .noop, runAt: clock.now(), parentID: parent)).jobID
        // The child finishes while the parent still runs: the parent's snooze becomes "due now".
        _ = try await queue.claim(owner: "b", limit: 1, lease: .seconds(30))
        try await queue.complete([(queue.lease(of: child), [:])])
        try await queue.snooze(queue.lease(of: parent), for: .seconds(3600), state: nil)
        #expect(try await queue.claim(owner: "a", limit: 1, lease: .seconds(30)).map(\.id) == [parent])
    }

    @Test func pruneRemovesOnlyOldFinishedJobs() async throws {
        let old = try await submit()
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        try await queue.complete([(queue.lease(of: old), [:])])
        try await database.query("update jobs set finished_at = now() - interval '8 days' where id = $1::uuid", [old])
        let fresh = try await submit()
        let pruned = try await JobQueue(database: database).prune(olderThan: .seconds(7 * 86_400), archive: true)
        #expect(pruned == 1)
        #expect(try await database.query("select count(*) as n from jobs where id = $1::uuid", [old])[0].int("n") == 0)
        #expect(try await database.query("select count(*) as n from reeld.jobs_archive where id = $1::uuid", [old])[0].int("n") == 1)
        #expect(try await state(fresh) == .available)
    }

    @Test func pruneWithoutArchiveDeletesOldFinishedJobsAndArchivesNothing() async throws {
        // Old and finished in each of the three ways: completed, failed, cancelled.
        let completed = try await submit()
        let failed = try await submit(.noop, maxAttempts: 1)
        let claimed = try await queue.claim(owner: "a", limit: 2, lease: .seconds(30))
        #expect(Set(claimed.map(\.id)) == [completed, failed])
        try await queue.complete([(queue.lease(of: completed), [:])])
        #expect(try await queue.fail(queue.lease(of: failed), error: JobError.permanent("refused"), delay: .zero) == .failed)
        let cancelled = try await submit()
        #expect(try await queue.cancel(job: cancelled) == .cancelled)
        let old = [completed, failed, cancelled]
        try await database.query("update jobs set finished_at = now() - interval '8 days' where id = any($1::uuid[])", [SQLArray(old)])
        // Kept: finished within the retention, and not finished at all.
        let recent = try await submit()
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        try await queue.complete([(queue.lease(of: recent), [:])])
        let waiting = try await submit()

        let pruned = try await JobQueue(database: database).prune(olderThan: .seconds(7 * 86_400), archive: false)
        #expect(pruned == 3)
        #expect(try await database.query("select count(*) as n from jobs where id = any($1::uuid[])", [SQLArray(old)])[0].int("n") == 0)
        #expect(try await database.query("select count(*) as n from reeld.jobs_archive")[0].int("n") == 0)
        #expect(try await state(recent) == .completed)
        #expect(try await state(waiting) == .available)
        #expect(try await JobQueue(database: database).prune(olderThan: .seconds(7 * 86_400), archive: false) == 0)
    }
}

/// Raised by a task when it is done; polled by the test.
private final class Answered: Sendable {
    let value = Atomic<Bool>(false)
}
