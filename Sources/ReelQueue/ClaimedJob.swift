import Foundation
import ReelCore

/// A job this node has leased: what a handler gets to work on.
public struct ClaimedJob: Sendable, Hashable {
    public var id: UUID
    public var kind: JobKind
    public var args: JSONValue
    /// 1-based; a snoozed job woken again keeps its attempt.
    public var attempt: Int
    public var maxAttempts: Int
    public var userID: UUID?
    public var projectID: UUID?
    public var parentID: UUID?
    /// What the job stored when it last snoozed (a provider task), nil on a first run.
    public var snoozeState: JSONValue?
    public var priority: Int
    public var createdAt: Date
    /// The token of the claim that started this attempt (see `JobLease`).
    public var leaseToken: UUID
    /// The provider the job runs on: the one its args name, or the default one at submit; nil
    /// for kinds that call none.
    public var provider: String? = nil

    /// This attempt's lease: what its heartbeats and its end are guarded by.
    public var lease: JobLease { JobLease(job: id, token: leaseToken) }
}
