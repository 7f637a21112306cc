import Logging
import ReelConfig
import ReelQueue
import ReelSystemd

/// One node's configuration reloads, one after another: each reads the file again and applies
/// what can change while the node runs, telling systemd RELOADING=1 before and READY=1 after.
///
/// A value owned by the reload loop: it remembers the configuration the node runs with now,
/// which is what the next reload compares against.
struct ConfigReloader {
    let source: ConfigReload
    let queue: JobQueue
    let notifier: SystemdNotifier
    let logger: Logger
    /// The configuration in effect: as started, with the live parts of the last good reload.
    private(set) var running: ReelConfig

    init(source: ConfigReload, running: ReelConfig, queue: JobQueue, notifier: SystemdNotifier, logger: Logger) {
        self.source = source
        self.running = running
        self.queue = queue
        self.notifier = notifier
        self.logger = logger
    }

    /// Reads and applies the file once. Never throws: whatever goes wrong, the node keeps
    /// running with the configuration it had, and systemd hears READY=1 so that
    /// `systemctl reload` returns (its STATUS= then says the reload failed).
    mutating func reload() async {
        var logger = logger
        logger[metadataKey: "config"] = "\(source.path)"
        try? notifier.reloading(status: "reloading the configuration")
        logger.info("Reloading the configuration")

        let new: ReelConfig
        do {
            new = try ReelConfig.load(path: source.path, environment: source.environment)
        } catch {
            // The error names the file, line and key; STATUS= (readable by every local user)
            // gets only where it is, not the message, which may quote a value.
            logger.error("Configuration reload failed: the file is invalid; running with the previous configuration",
                         metadata: ["error": "\(error)"])
            try? notifier.ready(status: "reload failed: invalid configuration at \(Self.location(of: error)); running with the previous one")
            return
        }

        let next = running.applyingReloadable(from: new)
        let restartOnly = running.restartOnlyChanges(in: new)
        if !restartOnly.isEmpty {
            logger.warning("Changed settings take effect only after a restart",
                           metadata: ["keys": "\(restartOnly.joined(separator: ", "))"])
        }

        do {
            // Idempotent: unchanged settings are written as they are.
            try await queue.apply(next.queueSettings)
        } catch {
            logger.error("Configuration reload failed: the settings could not be written to the database; running with the previous configuration",
                         metadata: ["error": "\(error)"])
            try? notifier.ready(status: "reload failed: settings not written to the database; running with the previous configuration")
            return
        }
        source.logLevel.level = next.log.level
        let applied = running.reloadableChanges(in: next)
        running = next
        logger.notice("Configuration reloaded", metadata: [
            "changed": "\(applied.isEmpty ? "nothing" : applied.joined(separator: ", "))",
            "restart_needed": "\(restartOnly.isEmpty ? "none" : restartOnly.joined(separator: ", "))",
        ])
        try? notifier.ready(status: restartOnly.isEmpty
            ? "ready; configuration reloaded"
            : "ready; configuration reloaded, restart to apply \(restartOnly.joined(separator: ", "))")
    }

    /// `FILE:LINE:COLUMN: KEY`, as much of it as the error knows.
    static func location(of error: ConfigError) -> String {
        var out = error.source
        if let position = error.position { out += ":\(position)" }
        if let key = error.key { out += " (\(key))" }
        return out
    }
}
