import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Testing

/// A cancel that meets a job's end: the cancel statement waits for the row the ending
/// statement holds, and must then see the job as it ended.
@Suite struct CancelRaceTests {
    /// The chaos test's cancel hit a job whose completion committed while the cancel waited for
    /// its row: the cancel wrote the state it read after the wait ('completed') onto the row it
    /// had read before it (still leased), which the lease constraint refused (23514).
    @Test func aCancelThatWaitsForACompletionLeavesTheJobCompleted() async throws {
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 3), logger: TestDatabase.logger)
        defer { database.close() }
        let ender = Database(configuration: .init(url: url, maxConnections: 1), logger: TestDatabase.logger)
        defer { ender.close() }
        let queue = JobQueue(database: database)
        let id = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 1])).jobID
        let lease = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first).lease
        _ = try await queue.heartbeat([lease: 0.5], lease: .seconds(30))

        // The completion's transaction holds the row...
        try await ender.withConnection { conn in
            try conn.execute("begin")
            try conn.query(
                """
                update public.jobs set state = 'completed', result = '{}', progress = 1, finished_at = now(),
                       lease_owner = null, lease_token = null, lease_expires_at = null
                where id = $1::uuid
                """, [id])
        }
        // ...while the cancel waits for it; then it commits.
        let outcome = try await withThrowingTaskGroup(of: JobState?.self) { group in
            group.addTask { try await queue.cancel(job: id) }
            try await Poll.until("the cancel to wait for the row", timeout: .seconds(20)) {
                try await database.query(
                    """
                    select count(*)::int as n from pg_stat_activity
                    where wait_event_type = 'Lock' and query like '%cancel_requested%' and pid <> pg_backend_pid()
                    """)[0].int("n") == 1
            }
            try await ender.withConnection { conn in try conn.execute("commit") }
            return try await group.next()!
        }
        #expect(outcome == .completed)
        let row = try await database.query(
            "select state::text as state, lease_owner, cancel_requested from public.jobs where id = $1::uuid", [id])[0]
        #expect(try row.string("state") == "completed" && row.optionalString("lease_owner") == nil && !row.bool("cancel_requested"))
    }
}
