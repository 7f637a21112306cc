import ReelCore

/// The limits and prices the engine enforces in SQL: tiers, provider limits and costs.
///
/// They are configuration, but every node must enforce the same ones, so a node writes them
/// into the database (`JobQueue.apply(_:)`) and the claim and `reeld.submit_job()` read them
/// from there.
public struct QueueSettings: Sendable, Hashable {
    /// Concurrency and rate for one class of one tier, or for one provider. Nil is unlimited.
    public struct Limit: Sendable, Hashable {
        /// Most jobs running at once.
        public var concurrent: Int?
        /// Most jobs started a minute: a token bucket that holds a minute's worth and refills
        /// continuously.
        public var perMinute: Int?

        public init(concurrent: Int? = nil, perMinute: Int? = nil) {
            self.concurrent = concurrent
            self.perMinute = perMinute
        }

        public static let unlimited = Limit()
    }

    /// One tier.
    public struct TierSettings: Sendable, Hashable {
        public var monthlyCredits: Int
        /// Largest export height in pixels (720, 1080, 2160).
        public var maxExportHeight: Int
        public var classes: [JobClass: Limit]

        public init(monthlyCredits: Int, maxExportHeight: Int, classes: [JobClass: Limit]) {
            self.monthlyCredits = monthlyCredits
            self.maxExportHeight = maxExportHeight
            self.classes = classes
        }
    }

    /// What one kind costs (for one model, or any).
    public struct Cost: Sendable, Hashable {
        public var kind: JobKind
        /// Nil prices every model the kind has no row of its own for.
        public var model: String?
        /// Reserved at submit; the most one job is charged.
        public var estimate: Int
        /// Credits per unit a generation reports ("video_seconds": 10).
        public var perUnit: [String: Double]

        public init(kind: JobKind, model: String? = nil, estimate: Int, perUnit: [String: Double] = [:]) {
            self.kind = kind
            self.model = model
            self.estimate = estimate
            self.perUnit = perUnit
        }
    }

    /// How long a job of one kind may go on without spending attempts before it fails: waiting
    /// (snoozed, from its first snooze) and throttled (its attempts answered with 429s without a
    /// break). Nil is no deadline.
    public struct Deadline: Sendable, Hashable {
        public var waiting: Duration?
        public var throttled: Duration?

        public init(waiting: Duration? = nil, throttled: Duration? = nil) {
            self.waiting = waiting
            self.throttled = throttled
        }

        public static let none = Deadline()
    }

    public var tiers: [Tier: TierSettings]
    /// By provider name; a provider not named is unlimited.
    public var providerLimits: [String: Limit]
    /// The provider of jobs whose kind calls one and whose args name none.
    public var defaultProvider: String
    public var costs: [Cost]
    /// By kind; a kind not named keeps the deadlines the database has for it.
    public var deadlines: [JobKind: Deadline]

    public init(tiers: [Tier: TierSettings] = QueueSettings.defaultTiers, providerLimits: [String: Limit] = [:],
                defaultProvider: String = "local", costs: [Cost] = QueueSettings.defaultCosts,
                deadlines: [JobKind: Deadline] = QueueSettings.defaultDeadlines) {
        self.tiers = tiers
        self.providerLimits = providerLimits
        self.defaultProvider = defaultProvider
        self.costs = costs
        self.deadlines = deadlines
    }

    /// The deadlines `config/reeld.toml` documents: hours for video, an hour for the other
    /// generations; none for workflow runs (each of their children has its own), renders and
    /// system jobs, which do not wait on providers.
    public static let defaultDeadlines: [JobKind: Deadline] = {
        let hour = Duration.seconds(3600)
        var deadlines = Dictionary(uniqueKeysWithValues: JobKind.all.map { ($0, Deadline.none) })
        deadlines[.video] = Deadline(waiting: hour * 6, throttled: hour * 2)
        for kind in [JobKind.storyboard, .image, .speech, .music, .soundEffect] {
            deadlines[kind] = Deadline(waiting: hour, throttled: hour)
        }
        return deadlines
    }()

    /// The tiers `config/reeld.toml` documents.
    public static let defaultTiers: [Tier: TierSettings] = [
        .free: TierSettings(monthlyCredits: 1000, maxExportHeight: 720, classes: [
            .textImage: Limit(concurrent: 2, perMinute: 20), .video: Limit(concurrent: 1, perMinute: 4),
            .audio: Limit(concurrent: 2, perMinute: 10), .render: Limit(concurrent: 1, perMinute: 4),
        ]),
        .pro: TierSettings(monthlyCredits: 20_000, maxExportHeight: 1080, classes: [
            .textImage: Limit(concurrent: 8, perMinute: 120), .video: Limit(concurrent: 4, perMinute: 30),
            .audio: Limit(concurrent: 8, perMinute: 60), .render: Limit(concurrent: 2, perMinute: 20),
        ]),
        .enterprise: TierSettings(monthlyCredits: 200_000, maxExportHeight: 2160, classes: [
            .textImage: Limit(concurrent: 32, perMinute: 600), .video: Limit(concurrent: 16, perMinute: 120),
            .audio: Limit(concurrent: 32, perMinute: 300), .render: Limit(concurrent: 8, perMinute: 60),
        ]),
    ]

    /// The costs `config/reeld.toml` documents.
    public static let defaultCosts: [Cost] = [
        Cost(kind: .storyboard, estimate: 5, perUnit: ["tokens": 0.002]),
        Cost(kind: .image, estimate: 10, perUnit: ["images": 10]),
        Cost(kind: .video, estimate: 100, perUnit: ["video_seconds": 10]),
        Cost(kind: .speech, estimate: 20, perUnit: ["characters": 0.01]),
        Cost(kind: .music, estimate: 30, perUnit: ["audio_seconds": 0.5]),
        Cost(kind: .soundEffect, estimate: 5, perUnit: ["audio_seconds": 0.5]),
        Cost(kind: .export, estimate: 10),
    ]

    /// The document `reeld.apply_settings()` reads.
    var json: JSONValue {
        func limit(_ l: Limit) -> JSONValue {
            ["concurrent": l.concurrent.map { .int(Int64($0)) } ?? .null, "per_minute": l.perMinute.map { .int(Int64($0)) } ?? .null]
        }
        var tiers: [String: JSONValue] = [:]
        for (tier, settings) in self.tiers {
            var classes: [String: JSONValue] = [:]
            for (jobClass, l) in settings.classes where jobClass != .none { classes[jobClass.rawValue] = limit(l) }
            tiers[tier.rawValue] = [
                "monthly_credits": .int(Int64(settings.monthlyCredits)),
                "max_export_height": .int(Int64(settings.maxExportHeight)),
                "classes": .object(classes),
            ]
        }
        return [
            "tiers": .object(tiers),
            "provider_limits": .object(providerLimits.mapValues(limit)),
            "default_provider": .string(defaultProvider),
            "deadlines": .object(Dictionary(uniqueKeysWithValues: deadlines.map { kind, deadline in
                (kind.rawValue, [
                    "waiting_seconds": deadline.waiting.map { .double($0.seconds) } ?? .null,
                    "throttled_seconds": deadline.throttled.map { .double($0.seconds) } ?? .null,
                ] as JSONValue)
            })),
            "costs": .array(costs.map { cost in
                [
                    "kind": .string(cost.kind.rawValue), "model": .string(cost.model ?? ""),
                    "estimate": .int(Int64(cost.estimate)), "per_unit": .object(cost.perUnit.mapValues { .double($0) }),
                ]
            }),
        ]
    }
}
