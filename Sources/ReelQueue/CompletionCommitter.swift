import Foundation
import Logging
import ReelCore
import Synchronization

/// Commits finished jobs' completions in groups: every completion pending when a commit starts
/// goes into one statement, and those that arrive while it runs gather for the next. Batches
/// grow with load, and a lone job still commits at once.
final class CompletionCommitter: Sendable {
    let queue: JobQueue
    let logger: Logger
    /// Between tries while the database is away.
    let retry: Backoff
    let attempts: Int
    private let pending = Mutex<[(lease: JobLease, result: JSONValue)]>([])
    private let arrived = AsyncSignal()

    init(queue: JobQueue, logger: Logger,
         retry: Backoff = Backoff(base: .milliseconds(200), cap: .seconds(2), jitter: .none), attempts: Int = 10) {
        self.queue = queue
        self.logger = logger
        self.retry = retry
        self.attempts = attempts
    }

    /// Queues a completion for the next commit.
    func add(_ lease: JobLease, result: JSONValue) {
        pending.withLock { $0.append((lease, result)) }
        arrived.signal()
    }

    /// Commits as completions arrive, until cancelled. `committed` receives each batch's leases
    /// and how many of them were completed.
    func run(committed: (_ batch: [JobLease], _ completed: Int) -> Void) async {
        while !Task.isCancelled {
            await arrived.wait()
            await flush(committed: committed)
        }
    }

    /// Commits everything pending, batch after batch, until nothing is left.
    func flush(committed: (_ batch: [JobLease], _ completed: Int) -> Void) async {
        while true {
            let batch = pending.withLock { pending in
                defer { pending.removeAll(keepingCapacity: true) }
                return pending
            }
            if batch.isEmpty { return }
            // After the last try the batch is let go of all the same: its leases expire and the
            // rescuer returns the jobs to the queue.
            let done = await retry.retrying(attempts: attempts, clock: queue.clock, failed: { error, attempt in
                logger.error("Could not commit completions", metadata: ["error": "\(error)", "jobs": "\(batch.count)", "try": "\(attempt)"])
            }) {
                try await queue.complete(batch)
            } ?? []
            if done.count < batch.count {
                logger.warning("Completed jobs had lost their lease; another node owns them now", metadata: ["jobs": "\(batch.count - done.count)"])
            }
            committed(batch.map(\.lease), done.count)
        }
    }
}
