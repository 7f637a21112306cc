import Logging

/// What a running handler may use: its logger (job fields set), progress, and the queue.
public struct JobContext: Sendable {
    let job: ClaimedJob
    let baseLogger: Logger
    public let queue: JobQueue
    let progressBox: ProgressBox

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
        let cancelRequested = try await queue.recordProgress(job.lease, progress: fraction)
        if cancelRequested ?? true {
            progressBox.cancel()
            return false
        }
        return true
    }
}
