import Foundation
import Logging
import ReelCore
import ReelDB
import ServiceLifecycle
import Synchronization

/// One node's worker pool: claims jobs in batches, runs them with bounded concurrency,
/// heartbeats their leases, commits completions in groups, rescues expired leases and prunes.
///
/// It wakes on NOTIFY `reeld_jobs`, on a freed worker slot, or on the fallback poll timer;
/// between those it blocks, so an idle node spends no CPU. On graceful shutdown it stops
/// claiming, gives running jobs `shutdownGrace` to finish, then cancels the rest and hands
/// their leases back.
public final class QueueWorker: Service, Sendable {
    /// Tuning for one node.
    public struct Configuration: Sendable {
        /// The lease owner name; unique per process (host, pid and a random suffix by default).
        public var owner: String
        public var workers: Int
        public var claimBatch: Int
        /// Claims in flight at once while the queue has a backlog (the first one alone
        /// serves a quiet queue). A claim is a round trip and a statement of a few
        /// milliseconds; with a second one in flight the node claims while the first one's
        /// statement runs, instead of leaving its share of the CPU idle.
        public var claimers: Int
        public var lease: Duration
        public var heartbeatInterval: Duration
        public var rescueInterval: Duration
        public var pollInterval: Duration
        public var shutdownGrace: Duration
        public var retention: Duration
        public var pruneInterval: Duration
        public var archive: Bool
        public var backoff: Backoff

        public init(
            owner: String = QueueWorker.defaultOwner(), workers: Int = 8, claimBatch: Int = 64, claimers: Int = 1,
            lease: Duration = .seconds(30), heartbeatInterval: Duration = .seconds(10),
            rescueInterval: Duration = .seconds(15), pollInterval: Duration = .seconds(5),
            shutdownGrace: Duration = .seconds(25), retention: Duration = .seconds(7 * 86_400),
            pruneInterval: Duration = .seconds(3600), archive: Bool = false, backoff: Backoff = Backoff()
        ) {
            self.owner = owner
            self.workers = max(1, workers)
            self.claimBatch = max(1, claimBatch)
            self.claimers = max(1, claimers)
            self.lease = lease
            self.heartbeatInterval = heartbeatInterval
            self.rescueInterval = rescueInterval
            // The plan: the timer is only a fallback behind NOTIFY, never a busy poll.
            self.pollInterval = max(pollInterval, .seconds(5))
            self.shutdownGrace = shutdownGrace
            self.retention = retention
            self.pruneInterval = pruneInterval
            self.archive = archive
            self.backoff = backoff
        }
    }

    /// Counters for STATUS= and benchmarks.
    public struct Stats: Sendable {
        public var running: Int
        public var completed: Int
        public var failed: Int
        public var claimed: Int
    }

    /// A job this node holds: from its claim until its end is committed (so also while its
    /// completion waits for the next group commit).
    struct Running {
        var box: ProgressBox
        /// A user's job: its end frees room under its lane's (and provider's) limits.
        var limited = false
    }

    struct State {
        var running: [UUID: Running] = [:]
        var busy = 0
        /// Slots the claims in flight may fill.
        var reserved = 0
        /// The last claim came back (nearly) full: the queue has a backlog.
        var backlog = false
        var stopping = false
        var stats = Stats(running: 0, completed: 0, failed: 0, claimed: 0)
        var pendingCompletions: [(id: UUID, result: JSONValue)] = []

        /// Slots a claim may fill: the free workers, but never more jobs in hand (running, or
        /// ended and waiting for their end to be committed) than twice the pool. A worker frees
        /// its slot as soon as its handler returns, so that the next job need not wait for a
        /// commit; without the second bound, claims that outran the commits piled up ended jobs
        /// without limit (a 400,000-job drain held 150,000 of them: every heartbeat then carried
        /// them all, took seconds, and leases expired under jobs that had long finished).
        func free(workers: Int) -> Int {
            min(workers - busy - reserved, 2 * workers - running.count - reserved)
        }
    }

    public let configuration: Configuration
    let queue: JobQueue
    let handlers: HandlerRegistry
    let listenURL: String?
    let logger: Logger
    let state = Mutex(State())
    let workAvailable = AsyncSignal()
    let slotFreed = AsyncSignal()
    let completionsPending = AsyncSignal()
    let drained = AsyncSignal()
    /// Called with each job id when its attempt starts; the queue benchmark measures pickup with it.
    let onStart: (@Sendable (UUID) -> Void)?

    /// - Parameter listenURL: where to LISTEN for `reeld_jobs`; nil relies on the poll timer alone.
    public init(
        queue: JobQueue, handlers: HandlerRegistry, configuration: Configuration, listenURL: String?,
        logger: Logger, onStart: (@Sendable (UUID) -> Void)? = nil
    ) {
        self.queue = queue
        self.handlers = handlers
        self.configuration = configuration
        self.listenURL = listenURL
        self.logger = logger
        self.onStart = onStart
    }

    public static func defaultOwner() -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(host):\(getpid()):\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }

    public var stats: Stats {
        state.withLock { state in
            var stats = state.stats
            stats.running = state.busy
            return stats
        }
    }

    /// Runs until graceful shutdown (or cancellation).
    public func run() async throws {
        let listener = listenURL.map { NotificationListener(url: $0, channels: ["reeld_jobs"], logger: logger) }
        defer { listener?.stop() }
        await withTaskGroup(of: Void.self) { loops in
            if let listener {
                loops.addTask {
                    for await _ in listener.notifications { self.workAvailable.signal() }
                }
            }
            loops.addTask { await self.completionLoop() }
            loops.addTask { await self.heartbeatLoop() }
            loops.addTask { await self.housekeepingLoop() }

            // Discarding: a finished job's task is freed at once. A plain task group keeps every
            // child's result until it is awaited, which grew the daemon by kilobytes per job.
            await withDiscardingTaskGroup { jobs in
                await withGracefulShutdownHandler {
                    await self.claimLoop(jobs: &jobs)
                } onGracefulShutdown: {
                    self.beginStopping()
                }
                self.beginStopping()
                await self.drain()
            }
            await flushCompletions()
            listener?.stop()
            loops.cancelAll()
        }
        logger.info("Worker stopped", metadata: ["owner": "\(configuration.owner)"])
    }

    private func beginStopping() {
        state.withLock { $0.stopping = true }
        workAvailable.signal()
        slotFreed.signal()
    }

    private var isStopping: Bool { state.withLock { $0.stopping } || Task.isCancelled }

    // MARK: Claiming

    /// Runs the claimers and starts the jobs they claim. Jobs are children of the pool's group
    /// (`jobs`), which only this task can add to: the claimers hand their batches over.
    private func claimLoop(jobs: inout DiscardingTaskGroup) async {
        let (batches, handOver) = AsyncStream.makeStream(of: [(job: ClaimedJob, box: ProgressBox)].self)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskGroup(of: Void.self) { claimers in
                    for index in 0..<self.configuration.claimers {
                        claimers.addTask { await self.claimer(index, handOver: handOver) }
                    }
                }
                handOver.finish()
            }
            for await claimed in batches {
                for (job, box) in claimed {
                    jobs.addTask { await self.execute(job, box: box) }
                }
            }
        }
    }

    /// One chain of claims: takes free slots, claims into them, hands the jobs over. Claimer 0
    /// serves a quiet queue alone; the others join only while there is a backlog.
    private func claimer(_ index: Int, handOver: AsyncStream<[(job: ClaimedJob, box: ProgressBox)]>.Continuation) async {
        var failures = 0
        while !isStopping {
            let (free, backlog) = state.withLock { ($0.free(workers: configuration.workers), $0.backlog) }
            if free <= 0 || (index > 0 && !backlog) {
                await slotFreed.wait(timeout: configuration.pollInterval)
                continue
            }
            if backlog {
                await gatherSlots()
            }
            // Taken under the lock, so that claims in flight never count the same slots.
            let limit = state.withLock { state in
                let limit = min(state.free(workers: configuration.workers), configuration.claimBatch)
                state.reserved += max(limit, 0)
                return limit
            }
            guard limit > 0 else { continue }
            let claimed: [ClaimedJob]
            do {
                claimed = try await queue.claim(owner: configuration.owner, limit: limit, lease: configuration.lease)
                failures = 0
            } catch {
                state.withLock { $0.reserved -= limit }
                failures += 1
                logger.error("Claim failed", metadata: ["error": "\(error)", "failures": "\(failures)"])
                await workAvailable.wait(timeout: .milliseconds(min(5000, 100 << min(failures, 6))))
                continue
            }
            // Each job's box is made here, under the lock that registers it, and handed over with it.
            let started = state.withLock { state in
                state.reserved -= limit
                // Half a batch or more counts: the fair claim can come back a little short of a
                // full batch when the lanes it served had fewer jobs left than their turns.
                state.backlog = claimed.count > 1 && claimed.count >= limit / 2
                state.busy += claimed.count
                state.stats.claimed += claimed.count
                return claimed.map { job in
                    let box = ProgressBox()
                    state.running[job.id] = Running(box: box, limited: job.userID != nil)
                    return (job: job, box: box)
                }
            }
            if started.isEmpty {
                await workAvailable.wait(timeout: await idleWait())
                continue
            }
            handOver.yield(started)
        }
    }

    /// With a backlog, a claim as soon as one slot frees would take a handful of jobs and pay a
    /// claim's fixed cost (the fair claim's lanes and providers, the round trip) for each
    /// handful: wait a moment (`gatherWindow`) for three quarters of a batch of slots first. Without a backlog, a freed
    /// slot claims at once, so pickup latency on a quiet queue is unchanged.
    private func gatherSlots() async {
        let wanted = min(configuration.claimBatch, configuration.workers) * 3 / 4
        let deadline = ContinuousClock.now + Self.gatherWindow
        while !isStopping, state.withLock({ $0.free(workers: configuration.workers) }) < wanted {
            let left = deadline - .now
            guard left > .zero else { break }
            await slotFreed.wait(timeout: left)
        }
    }

    static let gatherWindow = Duration.milliseconds(4)

    /// How long to wait for a NOTIFY after a claim found nothing: the poll interval, or less when
    /// work held back by a rate limit, a throttle or a schedule becomes claimable sooner (nothing
    /// announces that moment).
    private func idleWait() async -> Duration {
        guard let next = try? await queue.nextClaimAt() else { return configuration.pollInterval }
        let wait = Duration.milliseconds(Int64((next.timeIntervalSinceNow * 1000).rounded(.up)) + 5)
        return min(configuration.pollInterval, max(wait, .milliseconds(5)))
    }

    // MARK: Running one job

    private func execute(_ job: ClaimedJob, box: ProgressBox) async {
        onStart?(job.id)
        let result: Result<JobOutcome, any Error>
        if let handler = handlers.handler(for: job.kind) {
            let context = JobContext(job: job, baseLogger: logger, queue: queue, progressBox: box, owner: configuration.owner)
            // An unstructured task because a job needs a cancel handle of its own (an operator's
            // cancel or a lost lease stops one job, not the pool), and a child of the pool's group
            // cannot be cancelled alone. It stays scoped all the same: this child task awaits it,
            // and cancelling this child cancels it (ProgressBox.run). A task group with a watcher
            // child per job did the same at three times the allocations.
            result = await box.run(Task { try await handler.run(job, context: context) })
        } else {
            result = .failure(JobError.permanent("no handler for kind \(job.kind) on this node"))
        }
        // Only the paths that log pay for the job's metadata.
        lazy var logger = JobContext.logger(self.logger, for: job)
        box.finished.store(true, ordering: .relaxed)
        state.withLock { $0.busy -= 1 }
        slotFreed.signal()

        switch result {
        case .success(.completed(let value)):
            state.withLock { $0.pendingCompletions.append((job.id, value)) }
            completionsPending.signal()
            return
        case .success(.snooze(let after, let snoozeState)):
            await settle(job, logger: logger) {
                try await self.queue.snooze(owner: self.configuration.owner, job: job.id, for: after, state: snoozeState)
            }
        case .failure where box.cancelled.load(ordering: .relaxed):
            if state.withLock({ $0.stopping }) && !Task.isCancelled {
                // Shutdown cancelled it: the lease is handed back in drain().
                logger.info("Job interrupted by shutdown")
            } else {
                logger.info("Job cancelled")
                await settle(job, logger: logger) { try await self.queue.acknowledgeCancel(owner: self.configuration.owner, job: job.id) }
            }
        case .failure(let error):
            let jobError = (error as? JobError) ?? JobError("\(error)")
            let delay = configuration.backoff.delay(afterAttempt: job.attempt, retryAfter: jobError.retryAfter) { Double.random(in: 0..<1) }
            let settled = await settle(job, logger: logger) {
                try await self.queue.fail(owner: self.configuration.owner, job: job.id, error: jobError, delay: delay)
            } ?? nil
            logger.warning(
                settled == .failed ? "Job failed" : "Job attempt failed, will retry",
                metadata: ["error": "\(jobError.message)", "class": "\(jobError.failureClass.rawValue)", "retry_in_s": "\(delay.seconds)"])
            if settled == .failed { state.withLock { $0.stats.failed += 1 } }
        }
    }

    /// Ends an attempt in the database, retrying while the database is away: giving up would
    /// leave the job to the rescuer, which is correct but slower.
    @discardableResult
    private func settle<T: Sendable>(_ job: ClaimedJob, logger: Logger, _ body: @escaping @Sendable () async throws -> T) async -> T? {
        defer {
            // Room under the user's limits is committed now; claim again (see flushCompletions).
            if forget(CollectionOfOne(job.id)) { workAvailable.signal() }
        }
        for attempt in 1...5 {
            do {
                return try await body()
            } catch {
                logger.error("Could not record job outcome", metadata: ["error": "\(error)", "try": "\(attempt)"])
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        return nil
    }

    /// Lets go of jobs whose end is committed. Returns whether any was a user's job.
    private func forget(_ ids: some Sequence<UUID>) -> Bool {
        let (limited, empty) = state.withLock { state -> (Bool, Bool) in
            var limited = false
            for id in ids where state.running.removeValue(forKey: id)?.limited == true { limited = true }
            return (limited, state.running.isEmpty)
        }
        // Fewer jobs in hand: a claim held back by State.free may go on.
        slotFreed.signal()
        if empty { drained.signal() }
        return limited
    }

    // MARK: Completions (group commit)

    private func completionLoop() async {
        while !Task.isCancelled {
            await completionsPending.wait()
            await flushCompletions()
        }
    }

    /// Commits every pending completion in one statement. While one flush runs, new completions
    /// gather for the next: batches grow with load and a lone job still commits at once.
    private func flushCompletions() async {
        while true {
            let batch = state.withLock { state in
                defer { state.pendingCompletions.removeAll(keepingCapacity: true) }
                return state.pendingCompletions
            }
            if batch.isEmpty { return }
            var done: Set<UUID> = []
            for attempt in 1...10 {
                do {
                    done = try await queue.complete(owner: configuration.owner, batch)
                    break
                } catch {
                    logger.error("Could not commit completions", metadata: ["error": "\(error)", "jobs": "\(batch.count)", "try": "\(attempt)"])
                    try? await Task.sleep(for: .milliseconds(200 * attempt))
                }
            }
            if done.count < batch.count {
                logger.warning("Completed jobs had lost their lease; another node owns them now", metadata: ["jobs": "\(batch.count - done.count)"])
            }
            state.withLock { $0.stats.completed += done.count }
            let freedLimitedRoom = forget(batch.lazy.map(\.id))
            // A user's job ending frees room under their limits only once its completion is
            // committed: a claim before that still counts it. A node whose last claim found every
            // lane at its limit is waiting for a NOTIFY that this never sends, so wake it.
            if freedLimitedRoom { workAvailable.signal() }
        }
    }

    // MARK: Heartbeat, rescue, prune

    private func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.heartbeatInterval)
            if Task.isCancelled { return }
            let snapshot = state.withLock { state in
                state.running.mapValues { $0.box.value.withLock { $0 } }
            }
            guard !snapshot.isEmpty else { continue }
            do {
                let answer = try await queue.heartbeat(owner: configuration.owner, jobs: snapshot, lease: configuration.lease)
                // A finished job awaiting its completion commit shows as lost once the commit
                // lands; only jobs whose handler still runs are really lost.
                let lost = answer.lost.filter { id in
                    state.withLock { $0.running[id].map { !$0.box.finished.load(ordering: .relaxed) } ?? false }
                }
                for id in answer.cancelRequested.union(lost) {
                    state.withLock { $0.running[id]?.box }?.cancel()
                }
                if !lost.isEmpty {
                    logger.warning("Lost leases; stopping those jobs", metadata: ["jobs": "\(lost.count)"])
                }
            } catch {
                logger.error("Heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func housekeepingLoop() async {
        var lastPrune = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.rescueInterval)
            if Task.isCancelled { return }
            do {
                let rescued = try await queue.rescueExpired()
                if !rescued.isEmpty {
                    logger.warning("Rescued jobs whose lease expired", metadata: ["jobs": "\(rescued.count)"])
                    workAvailable.signal()
                }
                if ContinuousClock.now - lastPrune >= configuration.pruneInterval {
                    lastPrune = .now
                    let pruned = try await queue.prune(olderThan: configuration.retention, archive: configuration.archive)
                    if pruned > 0 { logger.info("Pruned finished jobs", metadata: ["jobs": "\(pruned)"]) }
                }
            } catch {
                logger.error("Housekeeping failed", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Shutdown

    private func drain() async {
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        while state.withLock({ !$0.running.isEmpty }) && ContinuousClock.now < deadline {
            await drained.wait(timeout: min(.milliseconds(250), deadline - .now))
            await flushCompletions()
        }
        await flushCompletions()
        let leftovers = state.withLock { state -> [UUID] in
            for running in state.running.values { running.box.cancel() }
            return Array(state.running.keys)
        }
        guard !leftovers.isEmpty else { return }
        logger.warning("Grace period over; handing leases back", metadata: ["jobs": "\(leftovers.count)"])
        // Give handlers a moment to see the cancel, then return the leases to the queue.
        let handBackBy = ContinuousClock.now + .seconds(2)
        while state.withLock({ $0.busy > 0 }) && ContinuousClock.now < handBackBy {
            try? await Task.sleep(for: .milliseconds(50))
        }
        do {
            try await queue.release(owner: configuration.owner, jobs: leftovers)
        } catch {
            logger.error("Could not hand leases back; the rescuer will return them", metadata: ["error": "\(error)"])
        }
    }
}
