import Logging
import ReelIntake
import ServiceLifecycle

/// The spool watcher as a service: it stops watching as soon as shutdown begins (intake stops
/// first), while the worker drains.
struct SpoolService: Service {
    let watcher: SpoolWatcher
    /// Told once the watch is in place.
    let readiness: Readiness

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await watcher.run(onListening: { readiness.markReady() }) }
    }
}
