import Foundation
import Logging
import ReelCore
import ReelQueue

/// Upper bound for settings in seconds: a year is already absurd, and it keeps `Duration` maths far from overflow.
private let maxSeconds = 365 * 86_400

extension ReelConfig {
    init(reading root: inout ConfigTable, environment: [String: String]) throws(ConfigError) {
        self.init()

        var t = try root.table("node")
        if let name = try t.string("name") {
            guard !name.isEmpty, !name.contains(where: { $0.isWhitespace }) else {
                throw t.error("name", "must be a non-empty name without spaces")
            }
            node.name = name
        }
        try t.finish()

        t = try root.table("database")
        let url = try t.string("url") ?? ""
        let urlFile = try t.path("url_file", environment: environment)
        if !url.isEmpty, urlFile != nil {
            throw t.error("url_file", "set either database.url or database.url_file, not both")
        }
        database = Database(url: url, urlFile: urlFile, poolSize: try t.int("pool_size", default: 4, in: 1...1000))
        try t.finish()

        t = try root.table("queue")
        queue.workers = try t.int("workers", default: queue.workers, in: 1...10_000)
        queue.claimBatch = try t.int("claim_batch", default: queue.claimBatch, in: 1...10_000)
        queue.claimers = try t.int("claimers", default: queue.claimers, in: 1...16)
        queue.lease = try t.seconds("lease_seconds", default: queue.lease, in: 1...maxSeconds)
        queue.heartbeatInterval = try t.seconds("heartbeat_seconds", default: queue.heartbeatInterval, in: 1...maxSeconds)
        queue.rescueInterval = try t.seconds("rescue_interval_seconds", default: queue.rescueInterval, in: 1...maxSeconds)
        queue.pollInterval = try t.seconds("poll_interval_seconds", default: queue.pollInterval, in: 5...maxSeconds)
        queue.shutdownGrace = try t.seconds("shutdown_grace_seconds", default: queue.shutdownGrace, in: 0...maxSeconds)
        queue.retention = .seconds(86_400 * (try t.int("retention_days", default: 7, in: 1...36_500)))
        queue.pruneInterval = try t.seconds("prune_interval_seconds", default: queue.pruneInterval, in: 1...maxSeconds)
        queue.backoffBase = try t.seconds("backoff_base_seconds", default: queue.backoffBase, in: 1...maxSeconds)
        queue.backoffCap = try t.seconds("backoff_cap_seconds", default: queue.backoffCap, in: 1...maxSeconds)
        queue.archive = try t.bool("archive", default: queue.archive)
        if queue.heartbeatInterval >= queue.lease {
            throw t.error(
                "heartbeat_seconds",
                "must be shorter than queue.lease_seconds (\(queue.lease)), or leases expire between heartbeats"
            )
        }
        if queue.rescueInterval > queue.lease {
            // A dead node's lease runs out at most one lease after its last heartbeat, and the
            // rescuer looks within one interval after that: two lease periods at the most.
            throw t.error(
                "rescue_interval_seconds",
                "must not be longer than queue.lease_seconds (\(queue.lease)), or a dead node's jobs wait more than two lease periods"
            )
        }
        if queue.backoffCap < queue.backoffBase {
            throw t.error("backoff_cap_seconds", "must not be smaller than queue.backoff_base_seconds")
        }
        try t.finish()

        t = try root.table("intake")
        intake.spoolDirectory = try t.path("spool_dir", default: intake.spoolDirectory, environment: environment)
        intake.maxFileBytes = try t.int("max_file_bytes", default: intake.maxFileBytes, in: 1...(1 << 30))
        if t.entry("allowed_uids") != nil {
            throw t.error(
                "allowed_uids",
                "was replaced by [intake.submitters]: any_user_uids for owners that may submit for any user, [intake.submitters.users] for the rest"
            )
        }
        var submitters = try t.table("submitters")
        if let uids = try submitters.array("any_user_uids") {
            intake.submitters.anyUserUIDs = try uids.map { (value: ConfigValue) throws(ConfigError) -> UInt32 in
                guard case .int(let i) = value, let uid = UInt32(exactly: i) else {
                    throw submitters.error("any_user_uids", "expected user ids (integers from 0 to \(UInt32.max)), found \(value.quoted)")
                }
                return uid
            }
        }
        var users = try submitters.table("users")
        for key in users.keys {
            guard let uid = UInt32(key), String(uid) == key else {
                throw users.error(key, "expected a uid (an integer from 0 to \(UInt32.max)) as the key, found \"\(key)\"")
            }
            let ids = try users.array(key) ?? []
            intake.submitters.users[uid] = try ids.map { (value: ConfigValue) throws(ConfigError) -> UUID in
                guard case .string(let text) = value, let id = UUID(text: text) else {
                    throw users.error(key, "expected user UUIDs, found \(value.quoted)")
                }
                return id
            }
        }
        try users.finish()
        try submitters.finish()
        intake.rescanInterval = try t.seconds("rescan_seconds", default: intake.rescanInterval, in: 1...maxSeconds)
        try t.finish()

        t = try root.table("storage")
        storage.root = try t.path("root", default: storage.root, environment: environment)
        try t.finish()

        t = try root.table("providers")
        providers.defaultProvider = try t.string("default") ?? providers.defaultProvider
        var local = try t.table("local")
        providers.local.enabled = try local.bool("enabled", default: providers.local.enabled)
        providers.local.videoDelay = .milliseconds(
            try local.int("video_delay_ms", default: 1000, in: 0...(maxSeconds * 1000))
        )
        providers.local.tasksDirectory = try local.path(
            "tasks_dir", default: providers.local.tasksDirectory, environment: environment
        )
        try local.finish()
        providers.remote = try RemoteProvider.names.map { (name: String) throws(ConfigError) -> RemoteProvider in
            try ReelConfig.readRemote(name, from: &t, environment: environment, soraEnabled: &providers.soraEnabled)
        }
        guard Providers.known.contains(providers.defaultProvider) else {
            throw t.error(
                "default",
                "unknown provider \"\(providers.defaultProvider)\"; known: " + Providers.known.joined(separator: ", ")
            )
        }
        if providers.defaultProvider == "local", !providers.local.enabled {
            throw t.error("default", "names provider \"local\", but providers.local.enabled is false")
        }
        if let remote = providers.remote(providers.defaultProvider), !remote.enabled {
            throw t.error("default", "names provider \"\(remote.name)\", but providers.\(remote.name).enabled is false")
        }
        var limits = try t.table("limits")
        for name in limits.keys {
            guard name.wholeMatch(of: /[a-z][a-z0-9_-]*/) != nil else {
                throw limits.error(name, "a provider name is lower-case letters, digits, '_' and '-', starting with a letter")
            }
            var provider = try limits.table(name)
            providers.limits[name] = QueueSettings.Limit(
                concurrent: try provider.optionalInt("concurrent", in: 0...100_000),
                perMinute: try provider.optionalInt("per_minute", in: 0...10_000_000))
            try provider.finish()
        }
        try limits.finish()
        try t.finish()

        t = try root.table("tiers")
        for tier in Tier.allCases {
            var table = try t.table(tier.rawValue)
            var settings = tiers[tier]!
            settings.monthlyCredits = try table.int("monthly_credits", default: settings.monthlyCredits, in: 0...1_000_000_000_000)
            settings.maxExportHeight = try table.int("max_export_height", default: settings.maxExportHeight, in: 144...8640)
            var concurrent = try table.table("concurrent")
            var perMinute = try table.table("per_minute")
            for jobClass in JobClass.limited {
                let current = settings.classes[jobClass] ?? .unlimited
                settings.classes[jobClass] = QueueSettings.Limit(
                    concurrent: try concurrent.limit(jobClass.rawValue, default: current.concurrent, in: 0...100_000),
                    perMinute: try perMinute.limit(jobClass.rawValue, default: current.perMinute, in: 0...10_000_000))
            }
            try concurrent.finish()
            try perMinute.finish()
            try table.finish()
            tiers[tier] = settings
        }
        try t.finish()

        t = try root.table("costs")
        for key in t.keys {
            let kind = JobKind(key)
            guard JobKind.all.contains(kind) else {
                throw t.error(key, "unknown job kind; known: " + JobKind.all.map(\.rawValue).joined(separator: ", "))
            }
            var table = try t.table(key)
            let standard = costs.first { $0.kind == kind && $0.model == nil }
            var cost = QueueSettings.Cost(
                kind: kind, estimate: try table.int("estimate", default: standard?.estimate ?? 0, in: 0...1_000_000_000))
            cost.perUnit = try Self.prices(&table, default: standard?.perUnit ?? [:])
            var models = try table.table("models")
            var perModel: [QueueSettings.Cost] = []
            for model in models.keys {
                var m = try models.table(model)
                var modelCost = QueueSettings.Cost(
                    kind: kind, model: model, estimate: try m.int("estimate", default: cost.estimate, in: 0...1_000_000_000))
                modelCost.perUnit = try Self.prices(&m, default: cost.perUnit)
                try m.finish()
                perModel.append(modelCost)
            }
            try models.finish()
            try table.finish()
            costs.removeAll { $0.kind == kind }
            costs.append(cost)
            costs.append(contentsOf: perModel)
        }
        costs = Self.sorted(costs)
        try t.finish()

        t = try root.table("deadlines")
        for key in t.keys {
            let kind = JobKind(key)
            guard JobKind.all.contains(kind) else {
                throw t.error(key, "unknown job kind; known: " + JobKind.all.map(\.rawValue).joined(separator: ", "))
            }
            var table = try t.table(key)
            let standard = deadlines[kind] ?? .none
            deadlines[kind] = QueueSettings.Deadline(
                waiting: try table.limit("waiting_seconds", default: standard.waiting.map(Self.wholeSeconds), in: 1...maxSeconds)
                    .map { .seconds($0) },
                throttled: try table.limit("throttled_seconds", default: standard.throttled.map(Self.wholeSeconds), in: 1...maxSeconds)
                    .map { .seconds($0) })
            try table.finish()
        }
        try t.finish()

        t = try root.table("routing")
        for key in t.keys {
            let kind = JobKind(key)
            let routed: [JobKind] = [.storyboard, .image, .video, .speech, .soundEffect, .music]
            guard routed.contains(kind) else {
                throw t.error(key, "\"\(key)\" is not made by a provider; routed kinds: " + routed.map(\.rawValue).joined(separator: ", "))
            }
            var route = try t.table(key)
            guard let list = try route.array("providers") else { throw route.error("providers", "is required: the providers to try, best first") }
            routing[kind] = try list.map { (value: ConfigValue) throws(ConfigError) -> String in
                guard case .string(let name) = value, Providers.known.contains(name) else {
                    throw route.error("providers", "expected provider names (\(Providers.known.joined(separator: ", "))), found \(value.quoted)")
                }
                return name
            }
            guard !routing[kind, default: []].isEmpty, Set(routing[kind, default: []]).count == routing[kind, default: []].count else {
                throw route.error("providers", "must name at least one provider, each once")
            }
            try route.finish()
        }
        try t.finish()

        t = try root.table("render")
        render.workers = try t.int("workers", default: render.workers, in: 1...256)
        render.threadsPerRender = try t.int("threads_per_render", default: render.threadsPerRender, in: 1...256)
        render.cacheDirectory = try t.path("cache_dir", default: render.cacheDirectory, environment: environment)
        render.cacheMaxMegabytes = try t.int("cache_max_mb", default: render.cacheMaxMegabytes, in: 0...100_000_000)
        try t.finish()

        t = try root.table("http")
        http.caFile = try t.path("ca_file", environment: environment)
        try t.finish()

        t = try root.table("log")
        log.level = try t.choice("level", default: log.level, among: Logger.Level.allCases)
        log.backend = try t.choice("backend", default: log.backend, among: Log.Backend.allCases)
        try t.finish()
    }

    private static func wholeSeconds(_ duration: Duration) -> Int { Int(duration.components.seconds) }

    /// `per_unit = { video_seconds = 10 }`: credits per unit a generation reports.
    private static func prices(_ table: inout ConfigTable, default value: [String: Double]) throws(ConfigError) -> [String: Double] {
        guard table.entry("per_unit") != nil else {
            _ = try table.table("per_unit")
            return value
        }
        var units = try table.table("per_unit")
        var prices: [String: Double] = [:]
        for unit in units.keys {
            guard unit.wholeMatch(of: /[a-z][a-z0-9_]*/) != nil else {
                throw units.error(unit, "a unit name is lower-case letters, digits and '_', starting with a letter")
            }
            prices[unit] = try units.number(unit, in: 0...1_000_000)
        }
        try units.finish()
        return prices
    }
}
