import Foundation
import Logging
import ReelBlocking
import ReelConfig
import ReelCore
import ReelDB
import ReelHTTP
import ReelIntake
import ReelProviders
import ReelQueue
import ReelStudio
import ReelSystemd
import ServiceLifecycle
import UnixSignals

/// One reeld node: database pool, handlers, worker, spool intake and systemd status, run as a
/// service group. Every node is the same; nodes coordinate only through the database.
public struct ReelNode: Sendable {
    public let config: ReelConfig
    public let database: Database
    public let queue: JobQueue
    public let worker: QueueWorker
    /// The one HTTP client every provider adapter shares (one curl multi handle).
    public let http: HTTPClient
    let logger: Logger
    let withSpool: Bool
    /// systemd's notify socket and watchdog, as this process was started with them.
    let notifier: SystemdNotifier

    /// Builds a node from configuration; `reeld run` checks the schema against its migrations first.
    public init(config: ReelConfig, logger: Logger, withSpool: Bool = true, notifier: SystemdNotifier = SystemdNotifier()) throws {
        self.config = config
        self.logger = logger
        self.withSpool = withSpool
        self.notifier = notifier
        guard !config.database.url.isEmpty else {
            throw ConfigurationProblem("database.url (or url_file) is not set")
        }
        database = Database(configuration: .init(url: config.database.url, maxConnections: config.database.poolSize), logger: logger)
        queue = JobQueue(database: database, throttleBackoff: Backoff(base: config.queue.backoffBase, cap: config.queue.backoffCap))
        http = HTTPClient(configuration: HTTPClient.Configuration(caFile: config.http.caFile), logger: logger)
        let handlers = try Self.handlers(config: config, database: database, http: http)
        worker = QueueWorker(
            queue: queue, handlers: handlers,
            configuration: .init(
                owner: "\(config.node.name):\(getpid())", workers: config.queue.workers, claimBatch: config.queue.claimBatch,
                claimers: config.queue.claimers,
                lease: config.queue.lease, heartbeatInterval: config.queue.heartbeatInterval,
                pollInterval: config.queue.pollInterval, shutdownGrace: config.queue.shutdownGrace,
                backoff: Backoff(base: config.queue.backoffBase, cap: config.queue.backoffCap),
                livenessInterval: Self.livenessInterval(watchdog: notifier.watchdogInterval)),
            listenURL: config.database.url, logger: logger)
    }

    /// How often the claim loop and the spool come round at least, idle or not: well within the
    /// watchdog's interval, whose pings depend on them (three passes per interval, so that one
    /// slow claim does not cost a ping); every 10 s without a watchdog.
    static func livenessInterval(watchdog: Duration?) -> Duration {
        min(watchdog.map { $0 / 3 } ?? .seconds(10), .seconds(10))
    }

    /// Every kind this node runs, with its handler; the enabled providers come from the configuration.
    static func handlers(config: ReelConfig, database: Database, http: HTTPClient) throws -> HandlerRegistry {
        // Media work (storing, probing, rendering, the local provider's synthesis) shares one
        // bounded pool; the database keeps a pool of its own, so that no heartbeat or claim
        // ever waits behind a render.
        let blocking = BlockingPool(maxThreads: StudioHandlers.threadsNeeded(renderWorkers: config.render.workers), name: "reeld-media")
        return try StudioHandlers(
            database: database, storageRoot: URL(fileURLWithPath: config.storage.root),
            providers: try ProviderCatalog.registry(config: config, pool: blocking, http: http),
            renderWorkers: config.render.workers, threadsPerRender: config.render.threadsPerRender,
            renderCacheDirectory: URL(fileURLWithPath: config.render.cacheDirectory),
            renderCacheBudgetBytes: config.render.cacheBudgetBytes, blocking: blocking
        ).registry()
    }

    /// Between two looks at the schema when no NOTIFY came (one may be lost while the
    /// listening connection is away).
    static let schemaCheckInterval = Duration.seconds(60)

    /// Writes this node's tiers, provider limits and costs into the database, where every
    /// node's claim and `reeld.submit_job()` enforce them. `run()` does it first; a reload
    /// writes the reloaded ones the same way.
    public func applySettings() async throws {
        try await queue.apply(config.queueSettings)
    }

    /// Runs until SIGTERM or SIGINT: housekeeping and worker first in the group, intake last,
    /// so that shutdown stops intake first and then drains the worker.
    ///
    /// With `reload`, SIGHUP reads the configuration file again and applies what can change
    /// live (see ``ConfigReloader``); without it SIGHUP keeps its default action.
    ///
    /// With `schema` (what `Migrator.check` found at start), the node watches for a newer
    /// reeld migrating the database and stops claiming when one has (``SchemaWatch``).
    public func run(reload: ConfigReload? = nil, schema: SchemaVersion? = nil) async throws {
        try await applySettings()
        let intake = Readiness()
        let announced = Readiness()
        let housekeeper = QueueHousekeeper(
            queue: queue,
            configuration: .init(
                rescueInterval: config.queue.rescueInterval, pruneInterval: config.queue.pruneInterval,
                retention: config.queue.retention, archive: config.queue.archive),
            logger: logger)
        var heartbeats = worker.claimerHeartbeats.enumerated().map { (name: "claimer \($0.offset)", heartbeat: $0.element) }
        let spoolHeartbeat = LoopHeartbeat(every: worker.configuration.livenessInterval)
        if withSpool { heartbeats.append((name: "spool", heartbeat: spoolHeartbeat)) }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            // First, so that it stops last: its connections close after every service that uses them.
            .init(service: database),
            // Before the worker, so that it stops after it: expired leases are still rescued
            // while the worker drains.
            .init(service: housekeeper),
            // Before the worker, so that it stops after it: a draining job's provider calls
            // still have their client.
            .init(service: http),
            .init(service: worker),
            .init(service: SystemdStatusService(
                notifier: notifier, worker: worker, intake: intake, announced: announced, heartbeats: heartbeats, logger: logger)),
        ]
        if let schema {
            services.append(.init(service: SchemaWatch(
                known: schema, database: database, listenURL: config.database.url, worker: worker,
                notifier: notifier, interval: Self.schemaCheckInterval, logger: logger)))
        }
        if withSpool {
            let spool = SpoolConfiguration(
                root: config.intake.spoolDirectory, maxFileBytes: config.intake.maxFileBytes,
                submitters: SpoolSubmitters(
                    anyUserUIDs: Set(config.intake.submitters.anyUserUIDs),
                    usersByUID: config.intake.submitters.users.mapValues { Set($0) }),
                rescanInterval: config.intake.rescanInterval)
            let watcher = SpoolWatcher(configuration: spool, submitter: SpoolSubmitter(queue: queue), logger: logger)
            services.append(.init(service: SpoolService(watcher: watcher, readiness: intake, heartbeat: spoolHeartbeat)))
        } else {
            intake.markReady()
        }
        if let reload {
            // Trapped here, before the group starts and so before READY=1: from then on a
            // SIGHUP must never take the default action, which ends the process.
            let hangups = await UnixSignalsSequence(trapping: .sighup)
            let reloader = ConfigReloader(source: reload, running: config, queue: queue, notifier: notifier, logger: logger)
            // Last, so that it stops first: no reload starts while the node drains.
            services.append(.init(service: ReloadService(hangups: hangups, announced: announced, reloader: reloader)))
        }
        var groupConfig = ServiceGroupConfiguration(services: services, logger: logger)
        groupConfig.gracefulShutdownSignals = [.sigterm, .sigint]
        let group = ServiceGroup(configuration: groupConfig)
        try await group.run()
    }
}
