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
    /// READY waits for intake to listen: until then a file dropped in the spool might wait for
    /// the next rescan, and systemd would call the unit started too early.
    let intake: Readiness
    /// Raised once READY=1 has gone out; reloads wait for it.
    let announced: Readiness
    let logger: Logger

    func run() async throws {
        // A stop before intake listens ends the wait too (the spool is stopped first, so it may
        // never get there).
        await cancelWhenGracefulShutdown { await intake.waitUntilReady() }
        if Task.isCancelled || Task.isShuttingDownGracefully { return }
        try? notifier.ready(status: "ready")
        announced.markReady()
        logger.info("Node ready", metadata: ["owner": "\(worker.configuration.owner)"])
        // STATUS every 10 s at most; the watchdog at half its interval when systemd asks for one.
        let interval = min(notifier.watchdogInterval.map { $0 / 2 } ?? .seconds(10), .seconds(10))
        // Returns as soon as shutdown begins, not at the end of the current sleep: the group stops
        // its services one after another, and the worker, stopped after this one, kept claiming
        // new jobs for up to `interval` after SIGTERM while this loop slept.
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { return }
                    let stats = worker.stats
                    try? notifier.notify([
                        .watchdog,
                        .status("running \(stats.running), completed \(stats.completed), failed \(stats.failed)"),
                    ])
                }
            }
        } onGracefulShutdown: {
            try? notifier.stopping(status: "draining")
        }
    }
}
