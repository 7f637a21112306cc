import ReelCore
import ReelDB

extension JobQueue {
    /// Writes tiers, provider limits and costs into the database, where the claim and
    /// `reeld.submit_job()` of every node read them (`reeld.apply_settings()`, an idempotent
    /// upsert). Called at node start; a reload calls it again.
    public func apply(_ settings: QueueSettings) async throws {
        try await database.query("select reeld.apply_settings($1::jsonb)", [settings.json])
    }
}
