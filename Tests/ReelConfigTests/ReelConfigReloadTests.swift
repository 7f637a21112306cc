import Logging
import ReelCore
import Testing

@testable import ReelConfig

/// What a reload takes from a new file, and which changed keys it names as needing a restart.
@Suite struct ReelConfigReloadTests {
    func parse(_ text: String) throws -> ReelConfig {
        try ReelConfig.parse(text, source: "test.toml")
    }

    @Test func tiersProviderLimitsCostsAndLogLevelApplyLiveAndNeedNoRestart() throws {
        let running = try parse("")
        let new = try parse(
            """
            [providers.limits.local]
            concurrent = 2
            [tiers.pro]
            concurrent = { video = 6 }
            [costs."video.generate"]
            estimate = 150
            per_unit = { video_seconds = 12 }
            [log]
            level = "debug"
            """)
        #expect(running.applyingReloadable(from: new) == new)
        #expect(running.restartOnlyChanges(in: new) == [])
        #expect(running.reloadableChanges(in: new) == ["tiers", "providers.limits", "costs", "log.level"])
        #expect(running.reloadableChanges(in: running) == [])
    }

    @Test func restartOnlyChangesAreNamedAndKeepTheirRunningValues() throws {
        let running = try parse(
            """
            [database]
            url = "postgresql://a@db/reeld"
            """)
        let new = try parse(
            """
            [node]
            name = "other-node"
            [database]
            url = "postgresql://b:secret@db/reeld"
            pool_size = 8
            [queue]
            workers = 3
            lease_seconds = 60
            archive = true
            [intake]
            spool_dir = "/srv/spool"
            [intake.submitters]
            any_user_uids = [1000]
            [storage]
            root = "/srv/storage"
            [providers.local]
            video_delay_ms = 5
            [render]
            workers = 4
            [log]
            backend = "stderr"
            [tiers.free]
            monthly_credits = 5
            """)
        let keys = running.restartOnlyChanges(in: new)
        #expect(keys == [
            "node.name", "database.url", "database.pool_size", "queue.workers", "queue.lease_seconds", "queue.archive",
            "intake.spool_dir", "intake.submitters", "storage.root", "providers.local.video_delay_ms", "render.workers",
            "log.backend",
        ])
        // Only the tier applies; everything named above stays as the node runs it.
        var expected = running
        expected.tiers = new.tiers
        let next = running.applyingReloadable(from: new)
        #expect(next == expected)
        #expect(next.restartOnlyChanges(in: new) == keys, "a later reload names them again until the restart")
        #expect(!keys.joined().contains("secret"))
    }
}
