import Foundation
import Logging
import ReelCore
import Synchronization

/// Runs one kind of job. Handlers know their kind's work, not the queue: they return an
/// outcome or throw (a `JobError` says how to treat the failure; anything else is transient).
public protocol JobHandler: Sendable {
    func run(_ job: ClaimedJob, context: JobContext) async throws -> JobOutcome
}

/// How an attempt ended well.
public enum JobOutcome: Sendable {
    /// Done, with a result kept on the job row.
    case completed(JSONValue)
    /// Waiting for something (a provider, child jobs): run again after `after`, or sooner
    /// when woken; spends no attempt. `state` comes back as `ClaimedJob.snoozeState`.
    case snooze(after: Duration, state: JSONValue?)
}

/// What a running handler may use: its logger (job fields set), progress, and the queue.
public struct JobContext: Sendable {
    let job: ClaimedJob
    let baseLogger: Logger
    public let queue: JobQueue
    let progressBox: ProgressBox
    /// The lease owner running the job.
    let owner: String

    /// The worker's logger with the job's fields (`job_id`, `job_kind`, `attempt`, `project_id`)
    /// as metadata. Made when asked for: most jobs never log, and building the metadata for
    /// every job cost more than running a no-op job.
    public var logger: Logger { JobContext.logger(baseLogger, for: job) }

    static func logger(_ base: Logger, for job: ClaimedJob) -> Logger {
        var logger = base
        var metadata: Logger.Metadata = [
            "job_id": "\(job.id.lowercasedText)", "job_kind": "\(job.kind)", "attempt": "\(job.attempt)",
        ]
        if let project = job.projectID { metadata["project_id"] = "\(project.lowercasedText)" }
        logger.handler.metadata.merge(metadata) { $1 }
        return logger
    }

    /// Reports progress in [0, 1]; sent with the next heartbeat (at least every heartbeat interval).
    public func reportProgress(_ fraction: Double) {
        progressBox.value.withLock { $0 = fraction }
    }

    /// Writes progress to the job row now, for handlers that report often (renders, every
    /// second), and learns of a cancel as soon as it is asked for rather than at the next
    /// heartbeat: a requested cancel (or a lost lease) cancels this attempt exactly as the
    /// heartbeat would. Returns false when the attempt is being cancelled.
    @discardableResult
    public func recordProgress(_ fraction: Double) async throws -> Bool {
        reportProgress(fraction)
        let cancelRequested = try await queue.recordProgress(owner: owner, job: job.id, progress: fraction)
        if cancelRequested ?? true {
            progressBox.cancel()
            return false
        }
        return true
    }
}

/// One running job's shared state: its latest progress (read by the heartbeat loop), whether it
/// was cancelled, and the handler's task, which a cancel (operator, lost lease, shutdown) cancels.
final class ProgressBox: Sendable {
    let value = Mutex<Double?>(nil)
    let cancelled = Atomic<Bool>(false)
    /// The handler has returned; only its outcome is left to record.
    let finished = Atomic<Bool>(false)
    private let handler = Mutex<Task<JobOutcome, any Error>?>(nil)

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

/// Handlers by kind.
public struct HandlerRegistry: Sendable {
    private var handlers: [JobKind: any JobHandler] = [:]

    public init() {}

    public mutating func register(_ kind: JobKind, _ handler: any JobHandler) {
        handlers[kind] = handler
    }

    public func handler(for kind: JobKind) -> (any JobHandler)? { handlers[kind] }

    public var kinds: [JobKind] { Array(handlers.keys) }
}

/// A handler from a closure, for small kinds and tests.
public struct ClosureHandler: JobHandler {
    let body: @Sendable (ClaimedJob, JobContext) async throws -> JobOutcome

    public init(_ body: @escaping @Sendable (ClaimedJob, JobContext) async throws -> JobOutcome) {
        self.body = body
    }

    public func run(_ job: ClaimedJob, context: JobContext) async throws -> JobOutcome {
        try await body(job, context)
    }
}
