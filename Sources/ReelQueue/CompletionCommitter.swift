import Foundation
import Logging
import ReelCore
import ReelDB
import Synchronization

/// Commits finished jobs' completions in groups: every completion pending when a commit starts
/// goes into one statement, and those that arrive while it runs gather for the next. Batches
/// grow with load, and a lone job still commits at once.
///
/// Finished work is kept until it is committed, however long the database is away: a batch is
/// tried again (`retry`, capped) until it commits, since letting it go would run every job in
/// it again. A batch the database refuses for what it holds (SQLSTATE class 22: a result that
/// jsonb cannot store, such as one holding U+0000) is split in halves until the refused
/// completion is alone; that job fails for good with the reason, and the rest commit.
final class CompletionCommitter: Sendable {
    typealias Completion = (lease: JobLease, result: JSONValue)

    let queue: JobQueue
    let logger: Logger
    /// Between tries while the database is away.
    let retry: Backoff
    private let pending = Mutex<[Completion]>([])
    private let arrived = AsyncSignal()

    init(queue: JobQueue, logger: Logger, retry: Backoff = Backoff(base: .milliseconds(200), cap: .seconds(2), jitter: .none)) {
        self.queue = queue
        self.logger = logger
        self.retry = retry
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

    /// Commits everything pending, batch after batch, until nothing is left. Cancelled while the
    /// database is away, it stops and keeps what it could not commit pending.
    func flush(committed: (_ batch: [JobLease], _ completed: Int) -> Void) async {
        while true {
            let batch = pending.withLock { pending in
                defer { pending.removeAll(keepingCapacity: true) }
                return pending
            }
            if batch.isEmpty { return }
            guard let done = await commit(batch[...]) else {
                pending.withLock { $0.insert(contentsOf: batch, at: 0) }
                return
            }
            if done < batch.count {
                logger.warning("Completed jobs had lost their lease or were refused", metadata: ["jobs": "\(batch.count - done)"])
            }
            committed(batch.map(\.lease), done)
        }
    }

    /// Commits `batch`; returns how many jobs it completed (the others had lost their lease, or
    /// their result was refused and they failed), or nil when cancelled before it could commit.
    private func commit(_ batch: ArraySlice<Completion>) async -> Int? {
        var failures = 0
        while true {
            do {
                return try await queue.complete(Array(batch)).count
            } catch let error as DatabaseError where error.sqlState?.hasPrefix("22") == true {
                guard batch.count > 1 else {
                    await refuse(batch[batch.startIndex], error)
                    return 0
                }
                let middle = batch.startIndex + batch.count / 2
                guard let first = await commit(batch[..<middle]), let second = await commit(batch[middle...]) else { return nil }
                return first + second
            } catch {
                if Task.isCancelled { return nil }
                failures += 1
                logger.error("Could not commit completions; keeping them to try again",
                             metadata: ["error": "\(error)", "jobs": "\(batch.count)", "try": "\(failures)"])
                try? await queue.clock.sleep(for: retry.delay(afterAttempt: failures))
            }
        }
    }

    /// The database refused to store this job's result: the job fails for good with the reason,
    /// since its result can never be stored (its attempts would all end the same way).
    private func refuse(_ completion: Completion, _ error: DatabaseError) async {
        let logger = {
            var logger = self.logger
            logger[metadataKey: "job_id"] = "\(completion.lease.job.lowercasedText)"
            return logger
        }()
        logger.error("Job result refused by the database; failing the job", metadata: ["error": "\(error.message)"])
        let reason = JobError.permanent("result could not be stored: \(error.message)")
        _ = await QueueWorker.settleRetry.retrying(attempts: QueueWorker.settleAttempts, clock: queue.clock, failed: { error, attempt in
            logger.error("Could not record job outcome", metadata: ["error": "\(error)", "try": "\(attempt)"])
        }) {
            try await queue.fail(completion.lease, error: reason, delay: .zero)
        }
    }
}
