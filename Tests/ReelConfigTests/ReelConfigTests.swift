import Foundation
import Logging
import ReelCore
import ReelQueue
import Testing

@testable import ReelConfig

@Suite struct ReelConfigTests {
    /// `config/reeld.toml` in this checkout.
    static let shippedConfig = URL(filePath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "config/reeld.toml").path

    func configError(_ text: String, environment: [String: String] = [:]) -> ConfigError? {
        do {
            _ = try ReelConfig.parse(text, source: "test.toml", environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test func shippedConfigParsesAndHoldsTheDefaults() throws {
        let config = try ReelConfig.load(path: Self.shippedConfig, environment: [:])
        #expect(config == ReelConfig.default)
    }

    @Test func emptyFileGivesTheDefaults() throws {
        let config = try ReelConfig.parse("")
        #expect(config == ReelConfig.default)
        #expect(config.queue.lease == .seconds(30))
        #expect(config.queue.retention == .seconds(7 * 86_400))
        #expect(config.providers.local.videoDelay == .milliseconds(1000))
        #expect(config.log.level == .info)
        #expect(!config.node.name.isEmpty)
    }

    @Test func readsEverySection() throws {
        let config = try ReelConfig.parse(
            """
            [node]
            name = "render-01"
            [database]
            url = "postgresql://reeld@db/reeld"
            pool_size = 2
            [queue]
            workers = 3
            claimers = 2
            lease_seconds = 60
            heartbeat_seconds = 20
            archive = true
            [intake.submitters]
            any_user_uids = [1000, 1001]
            [intake.submitters.users]
            1002 = ["2f1c9a7e-5b1e-4c7a-9d2e-0b8e6f1a3c44"]
            [providers.local]
            video_delay_ms = 0
            [render]
            workers = 3
            threads_per_render = 4
            cache_dir = "/srv/reeld/render-cache"
            cache_max_mb = 512
            [log]
            level = "debug"
            backend = "stderr"
            """
        )
        #expect(config.node.name == "render-01")
        #expect(config.database.url == "postgresql://reeld@db/reeld")
        #expect(config.database.poolSize == 2)
        #expect(config.queue.workers == 3)
        #expect(config.queue.claimers == 2)
        #expect(config.queue.lease == .seconds(60))
        #expect(config.queue.archive)
        #expect(config.intake.submitters.anyUserUIDs == [1000, 1001])
        #expect(config.intake.submitters.users == [1002: [UUID(uuidString: "2f1c9a7e-5b1e-4c7a-9d2e-0b8e6f1a3c44")!]])
        #expect(config.providers.local.videoDelay == .zero)
        #expect(config.render.workers == 3)
        #expect(config.render.threadsPerRender == 4)
        #expect(config.render.cacheDirectory == "/srv/reeld/render-cache")
        #expect(config.render.cacheMaxMegabytes == 512 && config.render.cacheBudgetBytes == 512 * 1_048_576)
        #expect(config.log.level == .debug)
        #expect(config.log.backend == .stderr)
    }

    @Test func readsTiersProviderLimitsAndCosts() throws {
        let config = try ReelConfig.parse(
            """
            [tiers.free]
            monthly_credits = 50
            concurrent = { video = 0, render = "unlimited" }
            per_minute = { text_image = 3 }
            [tiers.enterprise]
            max_export_height = 4320
            [providers.limits.kling]
            concurrent = 4
            per_minute = 30
            [providers.limits.elevenlabs]
            per_minute = 100
            [costs."video.generate"]
            estimate = 150
            [costs."video.generate".models."veo-3.1"]
            per_unit = { video_seconds = 25.5 }
            [costs."system.sleep"]
            estimate = 1
            """
        )
        let free = try #require(config.tiers[.free])
        #expect(free.monthlyCredits == 50)
        #expect(free.maxExportHeight == 720)
        #expect(free.classes[.video] == .init(concurrent: 0, perMinute: 4))
        #expect(free.classes[.render] == .init(concurrent: nil, perMinute: 4))
        #expect(free.classes[.textImage] == .init(concurrent: 2, perMinute: 3))
        #expect(config.tiers[.enterprise]?.maxExportHeight == 4320)
        #expect(config.tiers[.pro] == QueueSettings.defaultTiers[.pro])
        #expect(config.providers.limits == ["kling": .init(concurrent: 4, perMinute: 30), "elevenlabs": .init(perMinute: 100)])
        let video = config.costs.filter { $0.kind == .video }
        #expect(video == [
            .init(kind: .video, estimate: 150, perUnit: ["video_seconds": 10]),
            .init(kind: .video, model: "veo-3.1", estimate: 150, perUnit: ["video_seconds": 25.5]),
        ])
        #expect(config.costs.contains(.init(kind: .sleep, estimate: 1)))
        #expect(config.costs.contains(.init(kind: .image, estimate: 10, perUnit: ["images": 10])), "other kinds keep their defaults")
        #expect(config.queueSettings.providerLimits["kling"]?.concurrent == 4)
    }

    @Test func limitsAndCostsAreValidatedLikeEverythingElse() {
        #expect(configError("[tiers.gold]\nmonthly_credits = 1")?.key == "tiers.gold")
        #expect(configError("[tiers.free]\nconcurrent = { vidoe = 1 }")?.key == "tiers.free.concurrent.vidoe")
        #expect(configError("[tiers.free]\nconcurrent = { video = -1 }")?.message == "must be between 0 and 100000 (found -1)")
        #expect(configError("[tiers.free]\nper_minute = { video = \"lots\" }")?.message == "expected an integer or \"unlimited\", found \"lots\"")
        #expect(configError("[tiers.pro]\nmax_export_height = 100")?.key == "tiers.pro.max_export_height")
        #expect(configError("[providers.limits.Kling]\nconcurrent = 1")?.message.hasPrefix("a provider name is lower-case") == true)
        #expect(configError("[providers.limits.kling]\nconcurent = 1")?.key == "providers.limits.kling.concurent")
        #expect(configError("[costs.\"video.generat\"]\nestimate = 1")?.message.hasPrefix("unknown job kind") == true)
        #expect(configError("[costs.\"video.generate\"]\nper_unit = { seconds = -1 }")?.key == "costs.video.generate.per_unit.seconds")
        #expect(configError("[costs.\"video.generate\"]\nper_unit = { seconds = \"1\" }")?.message == "expected a number, found a string")
        #expect(configError("[costs.\"video.generate\"]\nprice = 1")?.key == "costs.video.generate.price")
    }

    @Test func unknownKeyIsAnErrorNamingKeyAndLine() {
        let e = configError("[queue]\nworkers = 2\nwrokers = 3")
        #expect(e?.key == "queue.wrokers")
        #expect(e?.position?.line == 3)
        #expect(e?.description.hasPrefix("test.toml:3:1: queue.wrokers: unknown key; known in [queue]: workers,") == true)
    }

    @Test func unknownTableIsAnError() {
        let e = configError("[metrics]\nport = 9090")
        #expect(e?.key == "metrics")
        #expect(e?.position?.line == 1)
        #expect(e?.message.hasPrefix("unknown table [metrics]") == true)
        #expect(configError("[providers.acme]\nenabled = true")?.key == "providers.acme")
    }

    @Test func wrongTypeIsAnErrorNamingKeyAndLine() {
        let e = configError("\n[queue]\nworkers = \"8\"")
        #expect(e?.description == "test.toml:3:1: queue.workers: expected an integer, found a string")
        #expect(configError("[queue]\narchive = 1")?.message == "expected true or false, found an integer")
        #expect(configError("[queue]\nworkers = 8.0")?.message == "expected an integer, found a float")
        #expect(configError("queue = 1")?.message == "expected a table, found an integer")
        #expect(configError("[intake.submitters]\nany_user_uids = [-1]")?.key == "intake.submitters.any_user_uids")
        #expect(configError("[intake.submitters]\nany_user_uids = [\"root\"]")?.message == "expected user ids (integers from 0 to 4294967295), found \"root\"")
        #expect(configError("[intake.submitters.users]\nroot = []")?.key == "intake.submitters.users.root")
        #expect(configError("[intake.submitters.users]\n1000 = [\"alice\"]")?.message == "expected user UUIDs, found \"alice\"")
        #expect(configError("[intake.submitters]\nallowed = 1")?.key == "intake.submitters.allowed")
        // The key it replaces says where to go instead of only being unknown.
        #expect(configError("[intake]\nallowed_uids = [1000]")?.message.contains("[intake.submitters]") == true)
    }

    @Test func outOfRangeValuesAreRejected() {
        #expect(configError("[queue]\npoll_interval_seconds = 2")?.message == "must be between 5 and 31536000 (found 2)")
        #expect(configError("[queue]\nworkers = 0")?.key == "queue.workers")
        #expect(configError("[queue]\nclaimers = 17")?.key == "queue.claimers")
        #expect(configError("[queue]\nheartbeat_seconds = 30")?.key == "queue.heartbeat_seconds")
        #expect(configError("[queue]\nrescue_interval_seconds = 31")?.key == "queue.rescue_interval_seconds")
        #expect(configError("[queue]\nbackoff_cap_seconds = 1")?.key == "queue.backoff_cap_seconds")
        #expect(configError("[log]\nlevel = \"loud\"")?.message.hasPrefix("'loud' is not one of \"trace\"") == true)
        #expect(configError("[storage]\nroot = \"relative/dir\"")?.message.contains("absolute path") == true)
        #expect(configError("[providers]\ndefault = \"acme\"")?.message.hasPrefix("unknown provider") == true)
        #expect(configError("[providers.local]\nenabled = false")?.key == "providers.default")
    }

    @Test func httpCAFileIsAnAbsolutePathAndNeedsARestart() throws {
        #expect(try ReelConfig.parse("", source: "test.toml", environment: [:]).http.caFile == nil)
        let config = try ReelConfig.parse("[http]\nca_file = \"${CONF}/ca.pem\"", source: "test.toml", environment: ["CONF": "/etc/reeld"])
        #expect(config.http.caFile == "/etc/reeld/ca.pem")
        #expect(configError("[http]\nca_file = \"ca.pem\"")?.key == "http.ca_file")
        #expect(configError("[http]\nca_dir = \"/etc\"")?.key == "http.ca_dir")
        #expect(ReelConfig().restartOnlyChanges(in: config) == ["http.ca_file"])
    }

    @Test func syntaxErrorsCarryTheLineAndColumn() {
        let e = configError("[queue]\nworkers = 1\nworkers = 2")
        #expect(e?.position == TOMLPosition(line: 3, column: 11))
        #expect(e?.description == "test.toml:3:11: Error while parsing key-value pair: cannot redefine existing integer 'workers'")
    }

    @Test func pathsExpandEnvironmentVariables() throws {
        let config = try ReelConfig.parse(
            """
            [database]
            url_file = "${CREDENTIALS_DIRECTORY}/database-url"
            [storage]
            root = "${STATE_DIRECTORY}/storage$x"
            """,
            environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/reeld.service", "STATE_DIRECTORY": "/var/lib/reeld"]
        )
        #expect(config.database.urlFile == "/run/credentials/reeld.service/database-url")
        #expect(config.storage.root == "/var/lib/reeld/storage$x")
    }

    @Test func unsetOrMalformedVariableIsAnError() {
        let e = configError("[database]\nurl_file = \"${CREDENTIALS_DIRECTORY}/database-url\"")
        #expect(e?.description == "test.toml:2:1: database.url_file: environment variable CREDENTIALS_DIRECTORY is not set")
        #expect(configError("[storage]\nroot = \"/x/${OPEN\"")?.message == "'${' without a closing '}'")
        #expect(configError("[storage]\nroot = \"/x/${1BAD}\"")?.message.contains("not a valid") == true)
    }

    @Test func urlAndURLFileAreExclusive() {
        let e = configError("[database]\nurl = \"postgresql://x\"\nurl_file = \"/run/x\"")
        #expect(e?.key == "database.url_file")
    }

    @Test func loadReadsTheURLFileAndTrimsIt() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "reeld-config-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "postgresql://reeld:pw@db/reeld\n".write(to: dir.appending(path: "database-url"), atomically: true, encoding: .utf8)
        let configPath = dir.appending(path: "reeld.toml").path
        try "[database]\nurl_file = \"${CREDENTIALS_DIRECTORY}/database-url\"\n"
            .write(toFile: configPath, atomically: true, encoding: .utf8)

        let config = try ReelConfig.load(path: configPath, environment: ["CREDENTIALS_DIRECTORY": dir.path])
        #expect(config.database.url == "postgresql://reeld:pw@db/reeld")
        #expect(!"\(config.database)".contains("pw"))

        try FileManager.default.removeItem(at: dir.appending(path: "database-url"))
        #expect(throws: ConfigError.self) {
            try ReelConfig.load(path: configPath, environment: ["CREDENTIALS_DIRECTORY": dir.path])
        }
    }

    @Test func missingConfigFileIsAnErrorNamingIt() {
        #expect {
            try ReelConfig.load(path: "/nonexistent/reeld.toml", environment: [:])
        } throws: { error in
            (error as? ConfigError)?.source == "/nonexistent/reeld.toml"
        }
    }
}

extension ReelConfigTests {
    @Test func readsDeadlinesPerKind() throws {
        let config = try ReelConfig.parse(
            """
            [deadlines."video.generate"]
            waiting_seconds = 600
            [deadlines."workflow.run"]
            waiting_seconds = 86400
            throttled_seconds = "unlimited"
            [deadlines."audio.speech"]
            waiting_seconds = "unlimited"
            """)
        #expect(config.deadlines[.video] == .init(waiting: .seconds(600), throttled: .seconds(7200)), "an unset key keeps its default")
        #expect(config.deadlines[.workflowRun] == .init(waiting: .seconds(86_400), throttled: nil))
        #expect(config.deadlines[.speech] == .init(waiting: nil, throttled: .seconds(3600)))
        #expect(config.deadlines[.image] == QueueSettings.defaultDeadlines[.image], "other kinds keep their defaults")
        #expect(config.queueSettings.deadlines == config.deadlines)
        #expect(configError("[deadlines.\"video.generat\"]\nwaiting_seconds = 1")?.message.hasPrefix("unknown job kind") == true)
        #expect(configError("[deadlines.\"video.generate\"]\nwaiting_seconds = 0")?.key == "deadlines.video.generate.waiting_seconds")
        #expect(configError("[deadlines.\"video.generate\"]\nwaiting = 1")?.key == "deadlines.video.generate.waiting")
    }
}
