import Foundation
import Glibc
import Logging
import ReelCore
import ReelQueue

/// Everything `/etc/reeld/reeld.toml` can set, with the defaults `config/reeld.toml` documents.
///
/// Built once at start (and again on SIGHUP) and passed to the services that need each part;
/// nothing reads configuration from globals.
public struct ReelConfig: Sendable, Hashable {
    public var node: Node
    public var database: Database
    public var queue: Queue
    public var intake: Intake
    public var storage: Storage
    public var providers: Providers
    public var render: Render
    public var log: Log
    public var http: HTTP
    /// `[tiers.free]`, `[tiers.pro]`, `[tiers.enterprise]`: what each tier may run and spend.
    public var tiers: [Tier: QueueSettings.TierSettings]
    /// `[costs."KIND"]`: what each kind costs, in credits; sorted by kind, then model.
    public var costs: [QueueSettings.Cost]
    /// `[deadlines."KIND"]`: how long a job may wait or be throttled before it fails.
    public var deadlines: [JobKind: QueueSettings.Deadline]
    /// `[routing."KIND"] providers = [...]`: provider order per kind, replacing the built-in
    /// order for that kind; kinds not named keep theirs.
    public var routing: [JobKind: [String]]

    public init(
        node: Node = Node(),
        database: Database = Database(),
        queue: Queue = Queue(),
        intake: Intake = Intake(),
        storage: Storage = Storage(),
        providers: Providers = Providers(),
        render: Render = Render(),
        log: Log = Log(),
        http: HTTP = HTTP(),
        tiers: [Tier: QueueSettings.TierSettings] = QueueSettings.defaultTiers,
        costs: [QueueSettings.Cost] = ReelConfig.sorted(QueueSettings.defaultCosts),
        deadlines: [JobKind: QueueSettings.Deadline] = QueueSettings.defaultDeadlines,
        routing: [JobKind: [String]] = [:]
    ) {
        self.node = node
        self.database = database
        self.queue = queue
        self.intake = intake
        self.storage = storage
        self.providers = providers
        self.render = render
        self.log = log
        self.http = http
        self.tiers = tiers
        self.costs = costs
        self.deadlines = deadlines
        self.routing = routing
    }

    /// What the engine enforces from this configuration, written to the database at start.
    public var queueSettings: QueueSettings {
        QueueSettings(tiers: tiers, providerLimits: providers.limits, defaultProvider: providers.defaultProvider, costs: costs,
                      deadlines: deadlines)
    }

    /// Costs in the order the config keeps them: by kind, then model (a kind's default first).
    public static func sorted(_ costs: [QueueSettings.Cost]) -> [QueueSettings.Cost] {
        costs.sorted { ($0.kind.rawValue, $0.model ?? "") < ($1.kind.rawValue, $1.model ?? "") }
    }

    /// The configuration an empty file gives.
    public static let `default` = ReelConfig()

    /// `[node]`: this daemon's identity among the nodes sharing one database.
    public struct Node: Sendable, Hashable {
        /// Lease owner name; must differ between nodes. Defaults to the host name.
        public var name: String

        public init(name: String = Node.hostName()) {
            self.name = name
        }

        /// The kernel's host name (`gethostname(2)`), no DNS involved.
        public static func hostName() -> String {
            var buffer = [CChar](repeating: 0, count: 256)
            guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
            let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return name.isEmpty ? "localhost" : name
        }
    }

    /// `[database]`: the PostgreSQL connection.
    public struct Database: Sendable, Hashable, CustomStringConvertible {
        /// libpq connection URI. After ``ReelConfig/load(path:environment:)`` it holds the contents
        /// of ``urlFile`` when that is set.
        public var url: String
        /// A file holding the URI, read at start: how a `LoadCredential=` secret gets in.
        public var urlFile: String?
        public var poolSize: Int

        public init(url: String = "", urlFile: String? = nil, poolSize: Int = 4) {
            self.url = url
            self.urlFile = urlFile
            self.poolSize = poolSize
        }

        /// Never prints the URL: it usually carries a password.
        public var description: String {
            "Database(url: \(url.isEmpty ? "\"\"" : "<redacted>"), urlFile: \(urlFile ?? "nil"), poolSize: \(poolSize))"
        }
    }

    /// `[queue]`: the job engine's workers, leases and housekeeping.
    public struct Queue: Sendable, Hashable {
        /// Jobs run at once by this node (generation pool).
        public var workers: Int
        /// Most jobs claimed in one call.
        public var claimBatch: Int
        /// Claims in flight at once while there is a backlog.
        public var claimers: Int
        /// How long a claim holds a job without a heartbeat.
        public var lease: Duration
        /// How often running jobs renew their lease; shorter than ``lease``.
        public var heartbeatInterval: Duration
        /// How often expired leases are returned to the queue.
        public var rescueInterval: Duration
        /// Fallback wake-up when no NOTIFY arrives.
        public var pollInterval: Duration
        /// How long SIGTERM waits for running jobs before handing their leases back.
        public var shutdownGrace: Duration
        /// How long finished jobs are kept before pruning.
        public var retention: Duration
        public var pruneInterval: Duration
        public var backoffBase: Duration
        public var backoffCap: Duration
        /// Move pruned jobs to an archive table instead of deleting them.
        public var archive: Bool

        public init(
            workers: Int = 8,
            claimBatch: Int = 64,
            claimers: Int = 1,
            lease: Duration = .seconds(30),
            heartbeatInterval: Duration = .seconds(10),
            rescueInterval: Duration = .seconds(15),
            pollInterval: Duration = .seconds(5),
            shutdownGrace: Duration = .seconds(25),
            retention: Duration = .seconds(7 * 86_400),
            pruneInterval: Duration = .seconds(3600),
            backoffBase: Duration = .seconds(2),
            backoffCap: Duration = .seconds(600),
            archive: Bool = false
        ) {
            self.workers = workers
            self.claimBatch = claimBatch
            self.claimers = claimers
            self.lease = lease
            self.heartbeatInterval = heartbeatInterval
            self.rescueInterval = rescueInterval
            self.pollInterval = pollInterval
            self.shutdownGrace = shutdownGrace
            self.retention = retention
            self.pruneInterval = pruneInterval
            self.backoffBase = backoffBase
            self.backoffCap = backoffCap
            self.archive = archive
        }
    }

    /// `[intake]`: the Maildir-style spool directory.
    public struct Intake: Sendable, Hashable {
        /// Holds `tmp/`, `new/`, `accepted/`, `rejected/`.
        public var spoolDirectory: String
        /// Larger job files are rejected unread.
        public var maxFileBytes: Int
        /// Who may submit job files for which users.
        public var submitters: Submitters
        /// Full rescan interval, in case an inotify event was lost.
        public var rescanInterval: Duration

        public init(
            spoolDirectory: String = "/var/spool/reeld",
            maxFileBytes: Int = 1_048_576,
            submitters: Submitters = Submitters(),
            rescanInterval: Duration = .seconds(30)
        ) {
            self.spoolDirectory = spoolDirectory
            self.maxFileBytes = maxFileBytes
            self.submitters = submitters
            self.rescanInterval = rescanInterval
        }

        /// `[intake.submitters]`: a job file acts with its owner's rights. Root and the uid reeld
        /// runs as may always act for anyone; every other owner needs a line here.
        public struct Submitters: Sendable, Hashable {
            /// `any_user_uids`: owners whose files may name any user, or none.
            public var anyUserUIDs: [UInt32]
            /// `[intake.submitters.users]`: owner uid → the only users its files may name.
            public var users: [UInt32: [UUID]]

            public init(anyUserUIDs: [UInt32] = [], users: [UInt32: [UUID]] = [:]) {
                self.anyUserUIDs = anyUserUIDs
                self.users = users
            }
        }
    }

    /// `[storage]`: where generated media is kept.
    public struct Storage: Sendable, Hashable {
        public var root: String

        public init(root: String = "/var/lib/reeld/storage") {
            self.root = root
        }
    }

    /// `[providers]`: which generation backends exist and which one jobs use by default.
    public struct Providers: Sendable, Hashable {
        /// Provider for jobs that name none.
        public var defaultProvider: String
        public var local: Local
        /// `[providers.openai]`, `[providers.google]`, `[providers.kling]`, `[providers.elevenlabs]`,
        /// always all four, in ``RemoteProvider/names`` order; see ``remote(_:)``.
        public var remote: [RemoteProvider]
        /// `providers.openai.sora_enabled`: whether OpenAI may be asked for video. Off by default
        /// because OpenAI announced the Sora API's shutdown for 2026-09-24.
        public var soraEnabled: Bool
        /// `[providers.limits.NAME]`: concurrency and rate per provider, shared by all nodes.
        /// Any provider name may have limits, including providers this node does not run.
        public var limits: [String: QueueSettings.Limit]

        /// Provider names the config knows; `[providers.NAME]` for any other is an error.
        public static let known: [String] = ["local"] + RemoteProvider.names

        public init(
            defaultProvider: String = "local", local: Local = Local(),
            remote: [RemoteProvider] = RemoteProvider.names.map { RemoteProvider(name: $0) }, soraEnabled: Bool = false,
            limits: [String: QueueSettings.Limit] = [:]
        ) {
            self.defaultProvider = defaultProvider
            self.local = local
            self.remote = remote
            self.soraEnabled = soraEnabled
            self.limits = limits
        }

        /// The remote provider of that name, or nil for `local` and unknown names.
        public func remote(_ name: String) -> RemoteProvider? {
            remote.first { $0.name == name }
        }

        /// The providers this node may route to: `local` if enabled, then the enabled remote ones.
        public var enabledNames: [String] {
            (local.enabled ? ["local"] : []) + remote.filter(\.enabled).map(\.name)
        }

        /// `[providers.local]`: the offline provider that makes media with libav.
        public struct Local: Sendable, Hashable {
            public var enabled: Bool
            /// Simulated time until an asynchronous video task finishes.
            public var videoDelay: Duration
            /// Where pending local video tasks are kept between polls.
            public var tasksDirectory: String

            public init(
                enabled: Bool = true,
                videoDelay: Duration = .milliseconds(1000),
                tasksDirectory: String = "/var/lib/reeld/local-tasks"
            ) {
                self.enabled = enabled
                self.videoDelay = videoDelay
                self.tasksDirectory = tasksDirectory
            }
        }
    }

    /// `[render]`: the libav render pool.
    public struct Render: Sendable, Hashable {
        /// Renders run at once by this node.
        public var workers: Int
        /// libav threads per render; `workers × threadsPerRender` bounds render CPU use.
        public var threadsPerRender: Int
        /// Where inputs normalised to an output's shape are kept for later renders.
        public var cacheDirectory: String
        /// Megabytes the cache may hold after a render; least recently used files go first.
        public var cacheMaxMegabytes: Int

        public init(workers: Int = 2, threadsPerRender: Int = 2, cacheDirectory: String = "/var/lib/reeld/render-cache", cacheMaxMegabytes: Int = 10_240) {
            self.workers = workers
            self.threadsPerRender = threadsPerRender
            self.cacheDirectory = cacheDirectory
            self.cacheMaxMegabytes = cacheMaxMegabytes
        }

        /// `cacheMaxMegabytes` in bytes.
        public var cacheBudgetBytes: Int64 { Int64(cacheMaxMegabytes) * 1_048_576 }
    }

    /// `[http]`: the client that talks to provider APIs.
    public struct HTTP: Sendable, Hashable {
        /// A PEM bundle of certificate authorities trusted instead of the system's (a private
        /// CA, a TLS-inspecting proxy's); nil: the system's store.
        public var caFile: String?

        public init(caFile: String? = nil) {
            self.caFile = caFile
        }
    }

    /// `[log]`
    public struct Log: Sendable, Hashable {
        public var level: Logger.Level
        public var backend: Backend

        public init(level: Logger.Level = .info, backend: Backend = .auto) {
            self.level = level
            self.backend = backend
        }

        /// Where logs go; `auto` picks journald when stderr is the service's journal stream.
        public enum Backend: String, Sendable, Hashable, CaseIterable {
            case auto
            case journald
            case stderr
        }
    }
}
