import Foundation
import Logging
import ReelCore
import ReelQueue
import ReelSystemd
import ServiceLifecycle

/// Tells systemd READY once the node works, keeps STATUS= current with live counts, pings the
/// watchdog while the loops that do the work make progress, and says STOPPING on shutdown.
struct SystemdStatusService: Service {
    let notifier: SystemdNotifier
    let worker: QueueWorker
    /// READY waits for intake to listen: until then a file dropped in the spool might wait for
    /// the next rescan, and systemd would call the unit started too early.
    let intake: Readiness
    /// Raised once READY=1 has gone out; reloads wait for it.
    let announced: Readiness
    /// The loops the watchdog vouches for: the claim loop and, with intake, the spool's.
    let heartbeats: [(name: String, heartbeat: LoopHeartbeat)]
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
                var stuck: Set<String> = []
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { return }
                    var states: [NotifyState] = [.status(Self.statusLine(worker))]
                    if let limit = notifier.watchdogInterval {
                        // A loop that has not come round within the watchdog's interval is stuck
                        // (a claim or a submit that never returns): no ping, and systemd restarts
                        // the node once the interval runs out.
                        let late = Set(heartbeats.filter { $0.heartbeat.age >= limit }.map(\.name))
                        if late.isEmpty {
                            states.insert(.watchdog, at: 0)
                            if !stuck.isEmpty { logger.notice("The loops make progress again; watchdog pings resume") }
                        } else if late != stuck {
                            logger.error("A loop makes no progress; watchdog pings withheld", metadata: ["loops": "\(late.sorted())"])
                        }
                        stuck = late
                    }
                    try? notifier.notify(states)
                }
            }
        } onGracefulShutdown: {
            try? notifier.stopping(status: "draining")
        }
    }

    /// The one-line STATUS=: live counts, and why the node no longer claims when it does not.
    static func statusLine(_ worker: QueueWorker) -> String {
        let stats = worker.stats
        let counts = "running \(stats.running), completed \(stats.completed), failed \(stats.failed)"
        guard let reason = worker.claimsStopped else { return counts }
        return "\(reason): stopped claiming; \(counts)"
    }
}
