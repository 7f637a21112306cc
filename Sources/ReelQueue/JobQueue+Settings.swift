import ReelCore
import ReelDB

extension JobQueue {
    /// Writes tiers, provider limits and costs into the database, where the claim and
    /// `reeld.submit_job()` of every node read them (`reeld.apply_settings()`, an idempotent
    /// upsert). Called at node start; a reload calls it again.
    ///
    /// It locks every lane, in key order. A client transaction that locks lanes in another
    /// order (several submits in one transaction) can deadlock with it, and PostgreSQL may abort
    /// either side; when it aborts this one, it is written again (a few times, briefly apart),
    /// so that a node does not fail its start or a reload on a conflict a retry resolves.
    public func apply(_ settings: QueueSettings) async throws {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await database.query("select reeld.apply_settings($1::jsonb)", [settings.json])
                return
            } catch let error as DatabaseError where Self.isRetryableConflict(error) && attempt < Self.applyAttempts {
                try await Task.sleep(for: Self.applyRetry.delay(afterAttempt: attempt))
            }
        }
    }

    static let applyAttempts = 5
    static let applyRetry = Backoff(base: .milliseconds(100), cap: .seconds(2))

    /// A deadlock (40P01) or a serialization failure (40001): the transaction was rolled back
    /// whole, and running it again may succeed.
    static func isRetryableConflict(_ error: DatabaseError) -> Bool {
        error.sqlState == "40P01" || error.sqlState == "40001"
    }
}
