import ServiceLifecycle
import UnixSignals

/// Reloads the configuration on each SIGHUP (`systemctl reload reeld`), one reload at a time.
///
/// SIGHUP is trapped from the moment `hangups` was made (before the group starts), so an early
/// one never kills the node; it is handled once READY=1 has gone out, since a reload's READY=1
/// before that would tell systemd the node had started.
struct ReloadService: Service {
    let hangups: UnixSignalsSequence
    /// Raised by the status service once it has sent the first READY=1.
    let announced: Readiness
    let reloader: ConfigReloader

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var reloader = reloader
            await announced.waitUntilReady()
            // Signals that arrive during a reload wait in the sequence and run one more reload.
            for await _ in hangups {
                if Task.isCancelled { return }
                await reloader.reload()
            }
        }
    }
}
