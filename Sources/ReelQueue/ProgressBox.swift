import Synchronization

/// One running job's shared state: its latest progress (read by the heartbeat loop), whether it
/// was cancelled, and the handler's task, which a cancel (operator, lost lease, shutdown) cancels.
final class ProgressBox: Sendable {
    /// The attempt's lease, which its heartbeats and its end are guarded by.
    let lease: JobLease
    let value = Mutex<Double?>(nil)
    let cancelled = Atomic<Bool>(false)
    /// The handler has returned; only its outcome is left to record.
    let finished = Atomic<Bool>(false)
    private let handler = Mutex<Task<JobOutcome, any Error>?>(nil)

    init(lease: JobLease) {
        self.lease = lease
    }

    func cancel() {
        cancelled.store(true, ordering: .relaxed)
        handler.withLock { $0?.cancel() }
    }

    /// Runs `task`'s handler to its end, cancelling it when `cancel()` is called (before or
    /// during) or when the calling task is cancelled.
    func run(_ task: Task<JobOutcome, any Error>) async -> Result<JobOutcome, any Error> {
        handler.withLock { $0 = task }
        if cancelled.load(ordering: .relaxed) { task.cancel() }
        let result = await withTaskCancellationHandler {
            await task.result
        } onCancel: {
            task.cancel()
        }
        handler.withLock { $0 = nil }
        return result
    }
}
