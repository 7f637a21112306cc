import Logging
import ReelDB
import ReelQueue
import ReelSystemd
import ServiceLifecycle

/// Notices a database migrated past the schema this node started with, and then stops the
/// node's claims for good: jobs already running finish, nothing new starts here, and STATUS and
/// the log say why. A newer reeld's tables and functions may mean things this binary does not
/// know (an older build ended runs without counting them), and the nodes that understand them
/// take the work.
///
/// It looks when `reeld migrate` announces a change (NOTIFY `reeld_schema`, on a connection of
/// its own), when that connection comes back after being away (a NOTIFY may have been lost
/// meanwhile), and every `interval` in any case.
struct SchemaWatch: Service {
    /// The reason the worker and STATUS give.
    static let reason = "schema is newer than this reeld"

    let known: SchemaVersion
    let database: Database
    let listenURL: String?
    let worker: QueueWorker
    let notifier: SystemdNotifier
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let listener = listenURL.map { NotificationListener(url: $0, channels: [SchemaVersion.channel], logger: logger) }
        defer { listener?.stop() }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                if let listener {
                    group.addTask {
                        for await _ in listener.notifications { wake.yield() }
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        wake.yield()
                    }
                }
                for await _ in wakeups {
                    if await look() { break }
                }
                // Stopped claiming: nothing more to look for until the node stops.
                group.cancelAll()
            }
            // A service that returns before shutdown would stop the whole group; the node keeps
            // running its jobs and answering systemd.
            try? await gracefulShutdown()
        }
    }

    /// Compares the database with `known`; true once the node has stopped claiming.
    private func look() async -> Bool {
        let newer: String?
        do {
            newer = try await known.newerSchema(in: database)
        } catch {
            logger.warning("Could not compare the database's schema with this reeld's", metadata: ["error": "\(error)"])
            return false
        }
        guard let newer else { return false }
        logger.error(
            "The database's schema is newer than this reeld: stopped claiming; running jobs finish. Upgrade this node's reeld.",
            metadata: ["unknown": "\(newer)"])
        worker.stopClaiming(because: Self.reason)
        try? notifier.status(SystemdStatusService.statusLine(worker))
        return true
    }
}
