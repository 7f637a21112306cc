import Foundation
import Logging
import ServiceLifecycle

/// The queue's housekeeping for the node: returns jobs whose lease expired to the queue and
/// prunes (or archives) finished jobs. Its own service rather than part of a worker, because it
/// serves every node's jobs, not the ones this node holds.
///
/// Rescued jobs need no wake-up from here: the rescuing statement publishes them, and its
/// NOTIFY on `reeld_jobs` reaches every listening worker.
public struct QueueHousekeeper: Service {
    /// How often it runs and what it keeps.
    public struct Configuration: Sendable {
        /// Between rescues of expired leases.
        public var rescueInterval: Duration
        /// Between prunes; checked after each rescue.
        public var pruneInterval: Duration
        /// How long finished jobs stay before they are pruned.
        public var retention: Duration
        /// Pruned jobs are copied into `reeld.jobs_archive` first.
        public var archive: Bool

        public init(
            rescueInterval: Duration = .seconds(15), pruneInterval: Duration = .seconds(3600),
            retention: Duration = .seconds(7 * 86_400), archive: Bool = false
        ) {
            self.rescueInterval = rescueInterval
            self.pruneInterval = pruneInterval
            self.retention = retention
            self.archive = archive
        }
    }

    public let configuration: Configuration
    let queue: JobQueue
    let logger: Logger

    public init(queue: JobQueue, configuration: Configuration = Configuration(), logger: Logger) {
        self.queue = queue
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until graceful shutdown (or cancellation).
    public func run() async throws {
        // Nothing here needs draining: what is not rescued or pruned now is on a later round,
        // on this node or another.
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
    }

    private func loop() async {
        var lastPrune = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.rescueInterval)
            if Task.isCancelled { return }
            do {
                let rescued = try await queue.rescueExpired()
                if !rescued.isEmpty {
                    logger.warning("Rescued jobs whose lease expired", metadata: ["jobs": "\(rescued.count)"])
                }
                if ContinuousClock.now - lastPrune >= configuration.pruneInterval {
                    lastPrune = .now
                    let pruned = try await queue.prune(olderThan: configuration.retention, archive: configuration.archive)
                    if pruned > 0 { logger.info("Pruned finished jobs", metadata: ["jobs": "\(pruned)"]) }
                }
            } catch {
                logger.error("Housekeeping failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
