import Foundation
import Logging
import ReelQueue
import ReelSystemd
import ServiceLifecycle

/// Tells systemd READY once the node works, keeps STATUS= current with live counts, pings the
/// watchdog while the worker's loops are alive, and says STOPPING on shutdown.
struct SystemdStatusService: Service {
    let notifier: SystemdNotifier
    let worker: QueueWorker
    let logger: Logger

    func run() async throws {
        try? notifier.ready(status: "ready")
        logger.info("Node ready", metadata: ["owner": "\(worker.configuration.owner)"])
        // STATUS every 10 s at most; the watchdog at half its interval when systemd asks for one.
        let interval = min(notifier.watchdogInterval.map { $0 / 2 } ?? .seconds(10), .seconds(10))
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                // Cut short by shutdown: the group stops the worker only after this service has
                // returned, so a whole interval here kept the node claiming for up to 10 s after SIGTERM.
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                let stats = worker.stats
                try? notifier.notify([
                    .watchdog,
                    .status("running \(stats.running), completed \(stats.completed), failed \(stats.failed)"),
                ])
            }
        } onGracefulShutdown: {
            try? notifier.stopping(status: "draining")
        }
    }
}
