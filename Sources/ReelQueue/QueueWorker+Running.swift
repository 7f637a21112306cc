import Foundation
import Logging
import ReelCore

/// Running one job and recording how its attempt ended.
extension QueueWorker {
    /// Between tries to record a snoozed, failed or cancelled attempt while the database is away.
    static let settleRetry = Backoff(base: .milliseconds(200), cap: .seconds(2), jitter: .none)
    static let settleAttempts = 5

    func execute(_ job: ClaimedJob, box: ProgressBox) async {
        // Every attempt's start and end are logged with the job's fields, so that
        // `journalctl JOB_ID=…` tells the story of a job that simply runs and completes too:
        // at info for a user's job, at debug for a system job (benchmarks and smoke tests drain
        // those by the hundred thousand). Below the logger's level nothing is built, not even
        // the clock reading.
        let story = AttemptStory(job: job, logger: self.logger)
        story?.started()
        let result: Result<JobOutcome, any Error>
        if let handler = handlers.handler(for: job.kind) {
            let context = JobContext(job: job, baseLogger: logger, queue: queue, progressBox: box)
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
        lazy var logger = story?.logger ?? JobContext.logger(self.logger, for: job)
        box.finished.store(true, ordering: .relaxed)
        state.withLock { $0.slots.handlerReturned() }
        slotFreed.signal()

        switch result {
        case .success(.completed(let value)):
            committer.add(job.lease, result: value)
            story?.ended("completed")
            return
        case .success(.snooze(let after, let snoozeState)):
            let snoozed = await settle(job, logger: logger) {
                try await self.queue.snooze(job.lease, for: after, state: snoozeState)
            }
            if snoozed == true { laterWorkScheduled(after: after) }
            story?.ended(snoozed == true ? "waiting" : "lease lost")
        case .success(.handBack(let provider, let reason, let handBackState)):
            let moved = await settle(job, logger: logger) {
                try await self.queue.handBack(job.lease, provider: provider, reason: reason, state: handBackState)
            } ?? nil
            story?.ended(moved.map(\.rawValue) ?? "lease lost")
        case .failure where box.cancelled.load(ordering: .relaxed):
            if state.withLock({ $0.stopping }) && !Task.isCancelled {
                // Shutdown cancelled it (drain), and its handler has now stopped: hand the lease
                // back, so that any node may run the job again without counting this attempt.
                logger.info("Job interrupted by shutdown; handing its lease back")
                await settle(job, logger: logger) { try await self.queue.release([job.lease]) }
                story?.ended("handed back")
            } else {
                logger.info("Job cancelled")
                await settle(job, logger: logger) { try await self.queue.acknowledgeCancel(job.lease) }
                story?.ended("cancelled")
            }
        case .failure(let error):
            let jobError = (error as? JobError) ?? JobError("\(error)")
            let delay = configuration.backoff.delay(afterAttempt: job.attempt, retryAfter: jobError.retryAfter)
            let settled = await settle(job, logger: logger) {
                try await self.queue.fail(job.lease, error: jobError, delay: delay)
            } ?? nil
            logger.warning(
                settled == .failed ? "Job failed" : settled == .cancelled ? "Job attempt failed; its cancel ends it" : "Job attempt failed, will retry",
                metadata: ["error": "\(jobError.message)", "class": "\(jobError.failureClass.rawValue)", "retry_in_s": "\(delay.seconds)"])
            if settled == .failed { state.withLock { $0.stats.failed += 1 } }
            if settled == .retryable { laterWorkScheduled(after: delay) }
            story?.ended(settled.map(\.rawValue) ?? "lease lost")
        }
    }

    /// Ends an attempt in the database, retrying while the database is away: giving up would
    /// leave the job to the rescuer, which is correct but slower.
    @discardableResult
    func settle<T: Sendable>(_ job: ClaimedJob, logger: Logger, _ body: () async throws -> T) async -> T? {
        defer {
            // Room under the user's limits is committed now; claim again (see completionsCommitted).
            if forget(CollectionOfOne(job.lease)) { workAvailable.signal() }
        }
        return await Self.settleRetry.retrying(attempts: Self.settleAttempts, clock: queue.clock, failed: { error, attempt in
            logger.error("Could not record job outcome", metadata: ["error": "\(error)", "try": "\(attempt)"])
        }, body)
    }

    /// A job of this node's is due again in `delay` (a retry, a snooze at a provider's pace). No
    /// NOTIFY announces that moment, and `reeld.next_claim_at` sees it only for users' jobs
    /// (through their lanes): remember it, and wake a claimer idle since before it, so that its
    /// wait ends then rather than at the fallback poll. Other nodes find a system job's retry
    /// by their poll.
    func laterWorkScheduled(after delay: Duration) {
        let due = ContinuousClock.now + delay
        state.withLock { state in
            state.nextLocalDue = min(state.nextLocalDue ?? due, due)
        }
        workAvailable.signal()
    }

    /// Lets go of jobs whose end is committed. Returns whether any was a user's job.
    func forget(_ ids: some Sequence<JobLease>) -> Bool {
        let committed = state.withLock { $0.slots.committed(ids) }
        // Fewer jobs in hand: a claim held back by WorkerSlots.free may go on.
        slotFreed.signal()
        if committed.empty { drained.signal() }
        return committed.freedLimitedRoom
    }

    /// A group commit is done: `completed` of `batch` were completed, the rest had lost their lease.
    func completionsCommitted(_ batch: [JobLease], completed: Int) {
        state.withLock { $0.stats.completed += completed }
        // A user's job ending frees room under their limits only once its completion is
        // committed: a claim before that still counts it. A node whose last claim found every
        // lane at its limit is waiting for a NOTIFY that this never sends, so wake it.
        if forget(batch) { workAvailable.signal() }
    }
}
