import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Testing

/// Writing a node's settings (`JobQueue.apply`, at start and on reload) while clients use the
/// lanes it locks.
@Suite struct ApplySettingsTests {
    /// `reeld.apply_settings` locks every lane in key order. A client transaction that submits
    /// jobs of several lanes in another order (two `reeld.submit_job` calls, each locking its
    /// job's lane until commit) can close a cycle with it; PostgreSQL then aborts one of the
    /// two (40P01). When that is the settings, they are written again once the client's
    /// transaction ends: a node must not fail its start (or a reload) for a deadlock it can retry.
    @Test func settingsChosenAsADeadlockVictimAreWrittenOnceTheOtherTransactionEnds() async throws {
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 2), logger: TestDatabase.logger)
        defer { database.close() }
        // One connection: the client's transaction stays on it between calls.
        let client = Database(configuration: .init(url: url, maxConnections: 1), logger: TestDatabase.logger)
        defer { client.close() }
        let queue = JobQueue(database: database)
        try await queue.apply(QueueSettings())

        // A user with two lanes, audio before video in key order.
        let user = try await TestDatabase.makeUser(database)
        try await database.query("insert into subscriptions (user_id, tier) values ($1::uuid, 'pro')", [user])
        for jobClass in ["audio", "video"] {
            _ = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 1, "class": .string(jobClass)], userID: user))
        }
        let submitSQL = "select job_id from reeld.submit_job('system.sleep', jsonb_build_object('seconds', 1, 'class', $2::text), $1::uuid)"

        // The client holds the video lane... Its own deadlock check is put off, so that on a
        // loaded machine, where the settings' check may be late, it is still theirs that finds
        // the cycle.
        try await client.withConnection { conn in
            try conn.execute("set deadlock_timeout = '60s'")
            try conn.execute("begin")
            try conn.query(submitSQL, [user, "video"])
        }
        // ...while the settings lock the lanes in key order: they take audio and wait for video.
        var changed = QueueSettings()
        changed.tiers[.pro]?.classes[.audio] = .init(concurrent: 7, perMinute: 700)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [changed] in try await queue.apply(changed) }
            try await Poll.until("the settings to wait for the client's lane", timeout: .seconds(20)) {
                try await database.query(
                    """
                    select count(*)::int as n from pg_stat_activity
                    where wait_event_type = 'Lock' and query like '%apply_settings%' and pid <> pg_backend_pid()
                    """)[0].int("n") == 1
            }
            // The client now wants the audio lane: a cycle. The settings' deadlock check
            // (deadlock_timeout, 1 s) finds it: they are aborted.
            try await client.withConnection { conn in
                try conn.query(submitSQL, [user, "audio"])
                try conn.execute("commit")
            }
            try await group.waitForAll()
        }
        let written = try await database.query(
            "select max_running, per_minute from reeld.lanes where user_id = $1::uuid and job_class = 'audio'", [user])[0]
        #expect(try written.int("max_running") == 7 && written.int("per_minute") == 700)
    }
}
