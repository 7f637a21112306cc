import Foundation

/// Everything needed to submit one job through `reeld.submit_job()`: the spool, `reelctl`,
/// the workflow engine and the studio app all describe a job this way.
public struct JobSubmission: Sendable, Hashable {
    public var kind: JobKind
    public var args: JSONValue
    public var userID: UUID?
    public var projectID: UUID?
    /// Same key (for the same user) → the same job id, never a second row.
    public var idempotencyKey: String?
    /// Lower runs first.
    public var priority: Int
    /// Not before this time; nil means now.
    public var runAt: Date?
    /// Nil takes the kind's default from `reeld.job_kinds`.
    public var maxAttempts: Int?
    /// The job that waits for this one (a workflow step's child); it is woken when this one ends.
    public var parentID: UUID?

    public init(
        kind: JobKind, args: JSONValue = [:], userID: UUID? = nil, projectID: UUID? = nil,
        idempotencyKey: String? = nil, priority: Int = 100, runAt: Date? = nil, maxAttempts: Int? = nil,
        parentID: UUID? = nil
    ) {
        self.kind = kind
        self.args = args
        self.userID = userID
        self.projectID = projectID
        self.idempotencyKey = idempotencyKey
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.parentID = parentID
    }
}
