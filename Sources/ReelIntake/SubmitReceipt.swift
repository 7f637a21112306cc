import Foundation

/// What a `JobSubmitting` returns for a job it has queued.
public struct SubmitReceipt: Sendable, Hashable, Codable {
    /// The job's id; the same id again when the idempotency key was seen before.
    public var jobID: UUID
    /// False when the key matched an existing job and nothing new was queued.
    public var created: Bool

    public init(jobID: UUID, created: Bool) {
        self.jobID = jobID
        self.created = created
    }
}
