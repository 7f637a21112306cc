import Foundation
import Logging
import ReelCore
import ReelDB
import ServiceLifecycle
import Synchronization

/// One node's worker pool: claims jobs in batches and runs them with bounded concurrency. Its
/// slots are a `WorkerSlots` value; its completions are committed in groups by a
/// `CompletionCommitter`, its leases kept by a `LeaseKeeper`. Rescue and pruning serve every
/// node and are the `QueueHousekeeper`'s.
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
        public var pollInterval: Duration
        public var shutdownGrace: Duration
        /// Between a failed job's attempts.
        public var backoff: Backoff

        public init(
            owner: String = QueueWorker.defaultOwner(), workers: Int = 8, claimBatch: Int = 64, claimers: Int = 1,
            lease: Duration = .seconds(30), heartbeatInterval: Duration = .seconds(10),
            pollInterval: Duration = .seconds(5), shutdownGrace: Duration = .seconds(25), backoff: Backoff = Backoff()
        ) {
            self.owner = owner
            self.workers = max(1, workers)
            self.claimBatch = max(1, claimBatch)
            self.claimers = max(1, claimers)
            self.lease = lease
            self.heartbeatInterval = heartbeatInterval
            // The timer is only a fallback behind NOTIFY, never a busy poll.
            self.pollInterval = max(pollInterval, .seconds(5))
            self.shutdownGrace = shutdownGrace
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

    struct State {
        var slots: WorkerSlots<ProgressBox>
        var stopping = false
        var stats = Stats(running: 0, completed: 0, failed: 0, claimed: 0)
    }

    public let configuration: Configuration
    let queue: JobQueue
    let handlers: HandlerRegistry
    let listenURL: String?
    let logger: Logger
    let state: Mutex<State>
    let committer: CompletionCommitter
    let leases: LeaseKeeper
    let workAvailable = AsyncSignal()
    let slotFreed = AsyncSignal()
    let drained = AsyncSignal()

    /// Between claims while claiming fails: the database is away or restarting. The wait also
    /// ends on a wake-up (the listener signals one when it reconnects), so the schedule only
    /// bounds how long a claimer waits without one.
    static let claimRetry = Backoff(base: .milliseconds(200), cap: .seconds(5), jitter: .none)
    /// Between tries to record a snoozed, failed or cancelled attempt while the database is away.
    static let settleRetry = Backoff(base: .milliseconds(200), cap: .seconds(2), jitter: .none)
    static let settleAttempts = 5

    /// - Parameter listenURL: where to LISTEN for `reeld_jobs`; nil relies on the poll timer alone.
    public init(queue: JobQueue, handlers: HandlerRegistry, configuration: Configuration, listenURL: String?, logger: Logger) {
        self.queue = queue
        self.handlers = handlers
        self.configuration = configuration
        self.listenURL = listenURL
        self.logger = logger
        state = Mutex(State(slots: WorkerSlots(workers: configuration.workers, claimBatch: configuration.claimBatch)))
        committer = CompletionCommitter(queue: queue, owner: configuration.owner, logger: logger)
        leases = LeaseKeeper(
            queue: queue, owner: configuration.owner, lease: configuration.lease,
            interval: configuration.heartbeatInterval, logger: logger)
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
            stats.running = state.slots.busy
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
            loops.addTask { await self.committer.run(committed: self.completionsCommitted) }
            loops.addTask {
                await self.leases.run(
                    held: { self.state.withLock { $0.slots.held.mapValues(\.handle) } },
                    current: { id in self.state.withLock { $0.slots.handle(id) } })
            }

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
            await committer.flush(committed: completionsCommitted)
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

    /// One chain of claims: takes free slots, claims into them, hands the jobs over.
    private func claimer(_ index: Int, handOver: AsyncStream<[(job: ClaimedJob, box: ProgressBox)]>.Continuation) async {
        var failures = 0
        while !isStopping {
            guard case .claim(let gatherFirst) = state.withLock({ $0.slots.nextStep(forClaimer: index) }) else {
                await slotFreed.wait(timeout: configuration.pollInterval)
                continue
            }
            if gatherFirst {
                await gatherSlots()
            }
            let limit = state.withLock { $0.slots.reserve() }
            guard limit > 0 else { continue }
            let claimed: [ClaimedJob]
            do {
                claimed = try await queue.claim(owner: configuration.owner, limit: limit, lease: configuration.lease)
                failures = 0
            } catch {
                state.withLock { $0.slots.claimFailed(limit: limit) }
                failures += 1
                logger.error("Claim failed", metadata: ["error": "\(error)", "failures": "\(failures)"])
                await workAvailable.wait(timeout: Self.claimRetry.delay(afterAttempt: failures), clock: queue.clock)
                continue
            }
            // Each job's box is made here, under the lock that registers it, and handed over with it.
            let started = state.withLock { state in
                let started = claimed.map { (job: $0, box: ProgressBox()) }
                state.slots.claimReturned(
                    started.map { .init(id: $0.job.id, limited: $0.job.userID != nil, handle: $0.box) }, limit: limit)
                state.stats.claimed += claimed.count
                return started
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
    /// handful: wait a moment (`gatherWindow`) for `WorkerSlots.gatherTarget` free slots first.
    /// Without a backlog, a freed slot claims at once, so pickup latency on a quiet queue is
    /// unchanged.
    private func gatherSlots() async {
        let deadline = ContinuousClock.now + Self.gatherWindow
        while !isStopping, state.withLock({ $0.slots.free < $0.slots.gatherTarget }) {
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
        state.withLock { $0.slots.handlerReturned() }
        slotFreed.signal()

        switch result {
        case .success(.completed(let value)):
            committer.add(job.id, result: value)
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
            let delay = configuration.backoff.delay(afterAttempt: job.attempt, retryAfter: jobError.retryAfter)
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
    private func settle<T: Sendable>(_ job: ClaimedJob, logger: Logger, _ body: () async throws -> T) async -> T? {
        defer {
            // Room under the user's limits is committed now; claim again (see completionsCommitted).
            if forget(CollectionOfOne(job.id)) { workAvailable.signal() }
        }
        return await Self.settleRetry.retrying(attempts: Self.settleAttempts, clock: queue.clock, failed: { error, attempt in
            logger.error("Could not record job outcome", metadata: ["error": "\(error)", "try": "\(attempt)"])
        }, body)
    }

    /// Lets go of jobs whose end is committed. Returns whether any was a user's job.
    private func forget(_ ids: some Sequence<UUID>) -> Bool {
        let committed = state.withLock { $0.slots.committed(ids) }
        // Fewer jobs in hand: a claim held back by WorkerSlots.free may go on.
        slotFreed.signal()
        if committed.empty { drained.signal() }
        return committed.freedLimitedRoom
    }

    /// A group commit is done: `completed` of `batch` were completed, the rest had lost their lease.
    private func completionsCommitted(_ batch: [UUID], completed: Int) {
        state.withLock { $0.stats.completed += completed }
        // A user's job ending frees room under their limits only once its completion is
        // committed: a claim before that still counts it. A node whose last claim found every
        // lane at its limit is waiting for a NOTIFY that this never sends, so wake it.
        if forget(batch) { workAvailable.signal() }
    }

    // MARK: Shutdown

    private func drain() async {
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        while state.withLock({ !$0.slots.held.isEmpty }) && ContinuousClock.now < deadline {
            await drained.wait(timeout: min(.milliseconds(250), deadline - .now))
            await committer.flush(committed: completionsCommitted)
        }
        await committer.flush(committed: completionsCommitted)
        let leftovers = state.withLock { state -> [UUID] in
            for held in state.slots.held.values { held.handle.cancel() }
            return Array(state.slots.held.keys)
        }
        guard !leftovers.isEmpty else { return }
        logger.warning("Grace period over; handing leases back", metadata: ["jobs": "\(leftovers.count)"])
        // Give handlers a moment to see the cancel, then return the leases to the queue.
        let handBackBy = ContinuousClock.now + .seconds(2)
        while state.withLock({ $0.slots.busy > 0 }) && ContinuousClock.now < handBackBy {
            try? await Task.sleep(for: .milliseconds(50))
        }
        do {
            try await queue.release(owner: configuration.owner, jobs: leftovers)
        } catch {
            logger.error("Could not hand leases back; the rescuer will return them", metadata: ["error": "\(error)"])
        }
    }
}
