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
/// claiming, gives running jobs `shutdownGrace` to finish, then cancels the rest and hands each
/// one's lease back once its handler has stopped.
public final class QueueWorker: Service, Sendable {
    /// Tuning for one node.
    public struct Configuration: Sendable {
        /// The lease owner name, for people (`reelctl show`, a rescued job's error); host, pid
        /// and a random suffix by default. Attempts are told apart by their lease token
        /// (`JobLease`), not by this name, so two processes or two attempts may share it.
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
        /// The longest a claimer waits without coming round its loop (and beating
        /// `claimerHeartbeats`), however long its poll interval or backoff: the systemd
        /// watchdog is pinged only while the claim loop beats within the watchdog's interval.
        public var livenessInterval: Duration

        public init(
            owner: String = QueueWorker.defaultOwner(), workers: Int = 8, claimBatch: Int = 64, claimers: Int = 1,
            lease: Duration = .seconds(30), heartbeatInterval: Duration = .seconds(10),
            pollInterval: Duration = .seconds(5), shutdownGrace: Duration = .seconds(25), backoff: Backoff = Backoff(),
            livenessInterval: Duration = .seconds(10)
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
            self.livenessInterval = max(livenessInterval, .milliseconds(100))
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
        var slots: WorkerSlots<JobLease, ProgressBox>
        var stopping = false
        /// Why this node no longer claims while it keeps running (``stopClaiming(because:)``).
        var claimsStopped: String?
        var stats = Stats(running: 0, completed: 0, failed: 0, claimed: 0)
        /// The earliest moment a job this node retried or snoozed falls due (see
        /// ``laterWorkScheduled(after:)``); nil when none is ahead.
        var nextLocalDue: ContinuousClock.Instant?
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
    /// One per claimer, beaten on each pass of its loop, idle waits included: a claimer stuck
    /// in a claim stops its own, whatever the others do.
    public let claimerHeartbeats: [LoopHeartbeat]

    /// - Parameter listenURL: where to LISTEN for `reeld_jobs`; nil relies on the poll timer alone.
    public init(queue: JobQueue, handlers: HandlerRegistry, configuration: Configuration, listenURL: String?, logger: Logger) {
        self.queue = queue
        self.handlers = handlers
        self.configuration = configuration
        self.listenURL = listenURL
        self.logger = logger
        state = Mutex(State(slots: WorkerSlots(workers: configuration.workers, claimBatch: configuration.claimBatch)))
        claimerHeartbeats = (0..<configuration.claimers).map { _ in LoopHeartbeat(every: configuration.livenessInterval) }
        committer = CompletionCommitter(queue: queue, logger: logger)
        leases = LeaseKeeper(
            queue: queue, lease: configuration.lease,
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

    /// Stops claiming for good while the node keeps running: jobs already running finish and
    /// are recorded, nothing new starts. For a node that finds the database's schema newer than
    /// the one it knows, whose claims and completions may no longer mean what it thinks.
    public func stopClaiming(because reason: String) {
        let first = state.withLock { state -> Bool in
            defer { if state.claimsStopped == nil { state.claimsStopped = reason } }
            return state.claimsStopped == nil
        }
        guard first else { return }
        logger.error("Stopped claiming jobs; running jobs finish", metadata: ["reason": "\(reason)", "owner": "\(configuration.owner)"])
        workAvailable.signal()
        slotFreed.signal()
    }

    /// Why this node stopped claiming, or nil while it claims.
    public var claimsStopped: String? { state.withLock { $0.claimsStopped } }

    private func beginStopping() {
        state.withLock { $0.stopping = true }
        workAvailable.signal()
        slotFreed.signal()
    }

    var isStopping: Bool { state.withLock { $0.stopping } || Task.isCancelled }

    // MARK: Shutdown

    private func drain() async {
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        while state.withLock({ !$0.slots.held.isEmpty }) && ContinuousClock.now < deadline {
            await drained.wait(timeout: min(.milliseconds(250), deadline - .now))
            await committer.flush(committed: completionsCommitted)
        }
        await committer.flush(committed: completionsCommitted)
        // Cancel the handlers still running. Each one's lease is handed back by its worker once
        // the handler has really stopped (execute), never before: a handler that ignores the
        // cancel still runs its job, and no other node may run it meanwhile (its lease keeps
        // being extended until then). A handler that finishes its work when cancelled keeps its
        // job, and its completion is committed as usual.
        let running = state.withLock { state -> Int in
            for held in state.slots.held.values where !held.handle.finished.load(ordering: .relaxed) { held.handle.cancel() }
            return state.slots.busy
        }
        guard running > 0 else { return }
        logger.warning("Grace period over; cancelling running jobs, each handed back once it stops", metadata: ["jobs": "\(running)"])
    }
}
