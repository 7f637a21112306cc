import Logging
import ReelCore
import ReelIntake
import ServiceLifecycle

/// The spool watcher as a service: it stops watching as soon as shutdown begins (intake stops
/// first), while the worker drains.
struct SpoolService: Service {
    let watcher: SpoolWatcher
    /// Told once the watch is in place.
    let readiness: Readiness
    /// Beaten by the loop that submits the spool's files; the watchdog checks it.
    let heartbeat: LoopHeartbeat

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await watcher.run(onListening: { readiness.markReady() }, heartbeat: heartbeat)
        }
    }
}
