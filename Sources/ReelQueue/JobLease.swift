import Foundation
import ReelCore

/// One attempt's hold on a job: the job and the token its claim made (`jobs.lease_token`).
///
/// Every statement that heartbeats or ends an attempt is guarded by the pair, not by the node's
/// name: a node whose own lease lapsed may have its rescuer and its claimer take the job again
/// under the same name while the first attempt still runs on, and that attempt must then be
/// unable to complete, fail, snooze, hand back or extend what is now the second one's.
public struct JobLease: Sendable, Hashable, CustomStringConvertible {
    public var job: UUID
    public var token: UUID

    public init(job: UUID, token: UUID) {
        self.job = job
        self.token = token
    }

    public var description: String { "\(job.lowercasedText) (lease \(token.lowercasedText))" }
}
