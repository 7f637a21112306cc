import Foundation
import ReelCore
import Synchronization

/// Where the queue's "now" comes from, and how it waits. In production "now" is the database's
/// own clock (nil: SQL uses now()), so that every node agrees. Tests inject a manual clock to
/// check leases, backoff and schedules without sleeping.
public protocol QueueClock: Sendable {
    /// The time to use in SQL, or nil for the database's now().
    func now() -> Date?

    /// Waits `duration`; the worker's retries wait here. Throws when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

extension QueueClock {
    /// Real time.
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
