import ReelCore

/// Runs one kind of job. Handlers know their kind's work, not the queue: they return an
/// outcome or throw (a `JobError` says how to treat the failure; anything else is transient).
public protocol JobHandler: Sendable {
    func run(_ job: ClaimedJob, context: JobContext) async throws -> JobOutcome
}
