import Foundation

/// The answer to a submit.
public struct SubmitReceipt: Sendable, Hashable {
    public var jobID: UUID
    /// False when the idempotency key matched an existing job.
    public var created: Bool

    public init(jobID: UUID, created: Bool) {
        self.jobID = jobID
        self.created = created
    }
}
