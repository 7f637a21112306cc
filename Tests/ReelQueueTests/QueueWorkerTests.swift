import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import ServiceLifecycle
import Synchronization
import Testing

/// A real worker against a real PostgreSQL: NOTIFY wake-ups, retries, cancel, shutdown.
@Suite struct QueueWorkerTests {
    let url: String
    let database: Database
    let queue: JobQueue

    init() throws {
        url = try TestDatabase.makeDatabase()
        database = Database(configuration: .init(url: url, maxConnections: 4), logger: TestDatabase.logger)
        queue = JobQueue(database: database)
    }

    func config(workers: Int = 4, grace: Duration = .seconds(5)) -> QueueWorker.Configuration {
        .init(owner: "test-\(UUID())", workers: workers, claimBatch: 16, lease: .seconds(3),
              heartbeatInterval: .milliseconds(200), shutdownGrace: grace,
              backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(50)))
    }

    /// A configuration under which no timer wakes the worker within a test (the fallback poll
    /// and the liveness pass are an hour away): what starts a job must be a NOTIFY or the
    /// worker's own wake-up.
    func configWithoutTimers() -> QueueWorker.Configuration {
        var configuration = config()
        configuration.pollInterval = .seconds(3600)
        configuration.livenessInterval = .seconds(3600)
        return configuration
    }

    func state(_ id: UUID) async throws -> JobState {
        JobState(rawValue: try await database.query("select state from jobs where id = $1::uuid", [id])[0].string("state"))!
    }

    /// Polls until `condition` holds or `timeout` passes.
    func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    /// Runs `worker` in a service group, calls `body`, then shuts the group down gracefully.
    func withWorker(_ worker: QueueWorker, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: [worker], logger: TestDatabase.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do { try await body() } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func idleWorkerPicksUpNewJobsThroughNotify() async throws {
        var handlers = HandlerRegistry()
        handlers.register(.noop, ClosureHandler { _, _ in .completed(["ok": true]) })
        // Only a NOTIFY can start a job submitted while this worker waits.
        let worker = QueueWorker(queue: queue, handlers: handlers, configuration: configWithoutTimers(), listenURL: url, logger: TestDatabase.logger)
        try await withWorker(worker) {
            // One at a time, each after the last completed: a wake-up left over from the
            // worker's start could run one of them, never all.
            for _ in 0..<5 {
                let id = try await queue.submit(JobSubmission(kind: .noop)).jobID
                #expect(try await eventually(timeout: .seconds(20)) { try await state(id) == .completed })
            }
            var ids: [UUID] = []
            for _ in 0..<100 { ids.append(try await queue.submit(JobSubmission(kind: .noop)).jobID) }
            #expect(try await eventually(timeout: .seconds(20)) {
                try await database.query("select count(*) as n from jobs where state = 'completed'")[0].int("n") == 105
            })
        }
    }

    /// A job whose NOTIFY never came (inserted with the publishing trigger off, as if the
    /// notification were lost while the listener was up) is found by the fallback poll.
    @Test func theFallbackPollFindsAJobWhoseNotifyWasLost() async throws {
        var handlers = HandlerRegistry()
        handlers.register(.noop, ClosureHandler { _, _ in .completed(["ok": true]) })
        var configuration = config()
        configuration.pollInterval = .seconds(5)
        configuration.livenessInterval = .seconds(3600)
        let worker = QueueWorker(queue: queue, handlers: handlers, configuration: configuration, listenURL: url, logger: TestDatabase.logger)
        try await withWorker(worker) {
            let first = try await queue.submit(JobSubmission(kind: .noop)).jobID
            #expect(try await eventually(timeout: .seconds(20)) { try await state(first) == .completed })
            let silent = try PostgresConnection(url: url)
            try silent.execute("set session_replication_role = replica")
            let lost = try silent.query(
                "insert into public.jobs (kind, max_attempts) values ('system.noop', 3) returning id")[0].uuid("id")
            #expect(try await eventually(timeout: .seconds(20)) { try await state(lost) == .completed })
        }
    }

    @Test func failingHandlerIsRetriedThenSucceedsKeepingTheErrors() async throws {
        let calls = Atomic<Int>(0)
        var handlers = HandlerRegistry()
        handlers.register(.noop, ClosureHandler { _, _ in
            if calls.add(1, ordering: .relaxed).newValue < 3 { throw JobError("flaky provider") }
            return .completed([:])
        })
        // A retry due 0–50 ms out is claimed because the worker that scheduled it wakes for it.
        let worker = QueueWorker(queue: queue, handlers: handlers, configuration: configWithoutTimers(), listenURL: url, logger: TestDatabase.logger)
        try await withWorker(worker) {
            let id = try await queue.submit(JobSubmission(kind: .noop)).jobID
            #expect(try await eventually(timeout: .seconds(15)) { try await state(id) == .completed })
            let row = try await database.query("select attempt, jsonb_array_length(errors) as n from jobs where id = $1::uuid", [id])[0]
            #expect(try row.int("attempt") == 3)
            #expect(try row.int("n") == 2)
        }
    }

    /// A provider's pace is short (a second or two) next to the fallback poll: a snoozed job is
    /// claimed again when its snooze ends, by the worker that snoozed it.
    @Test func aSnoozedJobIsClaimedAgainWhenItsSnoozeEnds() async throws {
        let calls = Atomic<Int>(0)
        var handlers = HandlerRegistry()
        handlers.register(.noop, ClosureHandler { _, _ in
            if calls.add(1, ordering: .relaxed).newValue < 3 { return .snooze(after: .milliseconds(100), state: nil) }
            return .completed([:])
        })
        let worker = QueueWorker(queue: queue, handlers: handlers, configuration: configWithoutTimers(), listenURL: url, logger: TestDatabase.logger)
        try await withWorker(worker) {
            let id = try await queue.submit(JobSubmission(kind: .noop)).jobID
            #expect(try await eventually(timeout: .seconds(15)) { try await state(id) == .completed })
            #expect(calls.load(ordering: .relaxed) == 3)
        }
    }

    @Test func cancellingARunningJobStopsItsHandler() async throws {
        let stopped = Atomic<Bool>(false)
        var handlers = HandlerRegistry()
        handlers.register(.sleep, ClosureHandler { _, _ in
            do { try await Task.sleep(for: .seconds(60)) } catch { stopped.store(true, ordering: .relaxed); throw error }
            return .completed([:])
        })
        let worker = QueueWorker(queue: queue, handlers: handlers, configuration: config(), listenURL: url, logger: TestDatabase.logger)
        try await withWorker(worker) {
            let id = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 60])).jobID
            #expect(try await eventually { try await state(id) == .running })
            #expect(try await queue.cancel(job: id) == .running)
            #expect(try await eventually(timeout: .seconds(3)) { try await state(id) == .cancelled })
            let handlerStopped = stopped.load(ordering: .relaxed)
            #expect(handlerStopped)
        }
    }

    @Test func aHandlerRecordingProgressSeesACancelBeforeTheNextHeartbeat() async throws {
        var handlers = HandlerRegistry()
        handlers.register(.sleep, ClosureHandler { _, context in
            var fraction = 0.0
            while try await context.recordProgress(fraction) {
                fraction = min(1, fraction + 0.01)
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .seconds(60))
            return .completed([:])
        })
        // Heartbeats every 20 s: only the handler's own progress writes can see the cancel in time.
        var configuration = config()
        configuration.lease = .seconds(60)
        configuration.heartbeatInterval = .seconds(20)
        let worker = QueueWorker(queue: queue, handlers: handlers, configuration: configuration, listenURL: url, logger: TestDatabase.logger)
        try await withWorker(worker) {
            let id = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 60])).jobID
            #expect(try await eventually {
                try await database.query("select progress from jobs where id = $1::uuid", [id])[0].double("progress") > 0
            })
            let asked = ContinuousClock.now
            #expect(try await queue.cancel(job: id) == .running)
            #expect(try await eventually(timeout: .seconds(3)) { try await state(id) == .cancelled })
            #expect(ContinuousClock.now - asked < .seconds(2))
        }
    }

    @Test func shutdownLetsShortJobsFinishAndHandsLongOnesBack() async throws {
        var handlers = HandlerRegistry()
        handlers.register(.sleep, ClosureHandler { job, _ in
            try await Task.sleep(for: .milliseconds(Int64((job.args["seconds"]?.doubleValue ?? 0) * 1000)))
            return .completed([:])
        })
        let worker = QueueWorker(queue: queue, handlers: handlers, configuration: config(grace: .seconds(1)), listenURL: url, logger: TestDatabase.logger)
        var short = UUID()
        var long = UUID()
        try await withWorker(worker) {
            short = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 0.3])).jobID
            long = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 60])).jobID
            #expect(try await eventually {
                let a = try await state(short)
                let b = try await state(long)
                return a == .running && b == .running
            })
        }
        #expect(try await state(short) == .completed)
        // Handed back: due again on any node, the interrupted attempt not counted.
        let row = try await database.query("select state, attempt, lease_owner from jobs where id = $1::uuid", [long])[0]
        #expect(try row.string("state") == "available")
        #expect(try row.int("attempt") == 0)
        #expect(try row.optionalString("lease_owner") == nil)
    }

    /// At shutdown only jobs whose handler has really stopped are handed back. A handler that
    /// finishes its work when cancelled, and one that ignores the cancel and finishes later,
    /// keep their jobs: their completions are committed, and no other node runs them meanwhile.
    @Test func shutdownHandsBackOnlyJobsWhoseHandlerHasStopped() async throws {
        var handlers = HandlerRegistry()
        handlers.register(.sleep, ClosureHandler { job, _ in
            if job.args["stubborn"]?.boolValue == true {
                // Not cancellable: an unstructured task's wait does not end when its waiter is cancelled.
                _ = await Task { try? await Task.sleep(for: .seconds(4)) }.value
                return .completed(["stubborn": true])
            }
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                return .completed(["cut short": true])
            }
            return .completed([:])
        })
        let worker = QueueWorker(queue: queue, handlers: handlers, configuration: config(grace: .seconds(1)), listenURL: url, logger: TestDatabase.logger)
        var graceful = UUID()
        var stubborn = UUID()
        try await withWorker(worker) {
            graceful = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 60])).jobID
            stubborn = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 4, "stubborn": true])).jobID
            #expect(try await eventually {
                let a = try await state(graceful)
                let b = try await state(stubborn)
                return a == .running && b == .running
            })
        }
        for id in [graceful, stubborn] {
            let row = try await database.query("select state::text as state, attempt from jobs where id = $1::uuid", [id])[0]
            #expect(try row.string("state") == "completed")
            #expect(try row.int("attempt") == 1)
        }
    }

    @Test func claimsInFlightTogetherNeverOverfillThePoolAndRunEachJobOnce() async throws {
        // Batches as large as the pool: were two claims in flight to count the same free
        // slots, the pool would run up to twice its workers.
        var configuration = config(workers: 8)
        configuration.claimBatch = 8
        configuration.claimers = 3
        let running = Atomic<Int>(0)
        let mostRunning = Atomic<Int>(0)
        let runs = Mutex<[UUID: Int]>([:])
        var handlers = HandlerRegistry()
        handlers.register(.noop, ClosureHandler { job, _ in
            let now = running.add(1, ordering: .relaxed).newValue
            mostRunning.max(now, ordering: .relaxed)
            runs.withLock { $0[job.id, default: 0] += 1 }
            try await Task.sleep(for: .milliseconds(Int64.random(in: 1...6)))
            running.subtract(1, ordering: .relaxed)
            return .completed(.null)
        })
        // A backlog before the worker starts, so that the extra claimers join in.
        try await database.query("insert into jobs (kind, max_attempts) select 'system.noop', 3 from generate_series(1, 400)")
        let worker = QueueWorker(queue: queue, handlers: handlers, configuration: configuration, listenURL: url, logger: TestDatabase.logger)
        try await withWorker(worker) { () async throws in
            #expect(try await eventually(timeout: .seconds(30)) {
                try await database.query("select count(*) as n from jobs where state = 'completed'")[0].int("n") == 400
            })
        }
        #expect(mostRunning.load(ordering: .relaxed) <= 8)
        #expect(mostRunning.load(ordering: .relaxed) >= 2)
        let counts = runs.withLock { $0 }
        #expect(counts.count == 400)
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(worker.stats.claimed == 400)
    }

    @Test func claimsWaitWhileEndedJobsCannotBeCommitted() async throws {
        // One job's row is locked by another session, so the completion that carries it waits,
        // and every completion after it. The workers stay free (a handler returns at once), but
        // the claims must stop at twice the pool in hand instead of running the queue dry.
        var configuration = config(workers: 4)
        configuration.claimBatch = 4
        let held = Mutex<UUID?>(nil)
        let locked = Atomic<Bool>(false)
        var handlers = HandlerRegistry()
        handlers.register(.noop, ClosureHandler { job, _ in
            let first = held.withLock { id in
                if id == nil { id = job.id; return true }
                return false
            }
            // The first job ends only once its row is locked.
            while first && !locked.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
            return .completed(.null)
        })
        try await database.query("insert into jobs (kind, max_attempts) select 'system.noop', 3 from generate_series(1, 200)")
        let blocker = try PostgresConnection(url: url)
        let worker = QueueWorker(queue: queue, handlers: handlers, configuration: configuration, listenURL: url, logger: TestDatabase.logger)
        try await withWorker(worker) { () async throws in
            #expect(try await eventually { held.withLock { $0 } != nil })
            _ = try blocker.execute("begin")
            _ = try blocker.query("select from jobs where id = $1::uuid for update", [held.withLock { $0 }!])
            locked.store(true, ordering: .relaxed)
            // Long enough for a worker without the bound to claim all 200.
            try await Task.sleep(for: .seconds(1))
            let committed = try await database.query("select count(*) as n from jobs where state = 'completed'")[0].int("n")
            let claimed = worker.stats.claimed
            #expect(claimed - committed <= 2 * 4, "claimed \(claimed), committed \(committed)")
            #expect(claimed < 200)
            _ = try blocker.execute("rollback")
            #expect(try await eventually(timeout: .seconds(30)) {
                try await database.query("select count(*) as n from jobs where state = 'completed'")[0].int("n") == 200
            })
        }
        #expect(worker.stats.claimed == 200)
    }
}
