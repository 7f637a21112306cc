import Foundation

/// A real `reeld run` process: the built executable, started with a config file the test writes
/// (its database, short leases, a spool in the test's directory, logs on stderr).
public struct ReeldProcess: Sendable {
    /// What the test chooses; the rest of the config keeps its documented defaults.
    public struct Settings: Sendable {
        /// `[node] name`; the lease owner is `NAME:PID`.
        public var nodeName: String
        public var databaseURL: String
        /// Holds `spool/`, `storage/`, `local-tasks/`, the config file and the logs.
        public var directory: URL
        public var workers = 4
        public var leaseSeconds = 3
        public var heartbeatSeconds = 1
        public var rescueIntervalSeconds = 1
        public var shutdownGraceSeconds = 5
        public var rescanSeconds = 30
        public var logLevel = "info"
        /// `[providers.local] enabled`: off for a node that must only use remote providers (then
        /// `extraConfig` names another `[providers] default`).
        public var localProviderEnabled = true
        /// More TOML appended to the config (tables the fields above do not cover: tiers,
        /// provider limits, costs).
        public var extraConfig = ""

        public init(nodeName: String, databaseURL: String, directory: URL) {
            self.nodeName = nodeName
            self.databaseURL = databaseURL
            self.directory = directory
        }

        public var spoolDirectory: URL { directory.appendingPathComponent("spool") }

        /// The TOML `reeld run --config` reads.
        var configText: String {
            func quoted(_ text: String) -> String {
                "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            }
            return """
                [node]
                name = \(quoted(nodeName))
                [database]
                url = \(quoted(databaseURL))
                pool_size = 4
                [queue]
                workers = \(workers)
                lease_seconds = \(leaseSeconds)
                heartbeat_seconds = \(heartbeatSeconds)
                rescue_interval_seconds = \(rescueIntervalSeconds)
                shutdown_grace_seconds = \(shutdownGraceSeconds)
                backoff_base_seconds = 1
                backoff_cap_seconds = 1
                [intake]
                spool_dir = \(quoted(spoolDirectory.path))
                rescan_seconds = \(rescanSeconds)
                [storage]
                root = \(quoted(directory.appendingPathComponent("storage").path))
                [providers.local]
                enabled = \(localProviderEnabled)
                tasks_dir = \(quoted(directory.appendingPathComponent("local-tasks").path))
                [log]
                level = \(quoted(logLevel))
                backend = "stderr"
                \(extraConfig)
                """
        }
    }

    public let settings: Settings
    public let process: ChildProcess
    /// The file given with `--config`; ``rewriteConfig(_:)`` replaces it for a reload.
    public let configFile: URL

    /// The lease owner this process writes on the jobs it claims.
    public var owner: String { "\(settings.nodeName):\(process.pid)" }

    /// Writes `label.toml` into the settings' directory and starts `reeld run` with it, with
    /// `environment` added to this process's.
    public init(_ settings: Settings, label: String, environment: [String: String] = [:]) throws {
        self.settings = settings
        try FileManager.default.createDirectory(at: settings.directory, withIntermediateDirectories: true)
        let config = settings.directory.appendingPathComponent("\(label).toml")
        try Data(settings.configText.utf8).write(to: config)
        configFile = config
        process = try ChildProcess(
            executable: try BuiltProducts.executable("reeld"),
            arguments: ["run", "--config", config.path, "--migrations", TestDatabase.migrationsDirectory.path],
            environment: environment, outputDirectory: settings.directory, label: label)
    }

    /// Replaces the config file with `settings`' text, in one rename, as an editor saving it
    /// would: a reload (SIGHUP) reads the new file whole.
    public func rewriteConfig(_ settings: Settings) throws {
        try rewriteConfig(text: settings.configText)
    }

    /// Replaces the config file with `text`, valid or not.
    public func rewriteConfig(text: String) throws {
        try Data(text.utf8).write(to: configFile, options: .atomic)
    }

    /// When the node wrote the first log line containing `text`, by its own clock (the `ts=` of
    /// its logfmt lines): a timing a busy test process cannot distort.
    public func loggedAt(_ text: String) -> Date? {
        guard let line = process.standardError.split(separator: "\n").first(where: { $0.contains(text) }),
              line.hasPrefix("ts="), let end = line.firstIndex(of: " ") else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS"
        return formatter.date(from: String(line[line.index(line.startIndex, offsetBy: 3)..<end]))
    }

    /// Where the first log line containing every one of `parts` is among the node's lines (0 for
    /// the first), nil if none does: orders events without comparing clocks.
    public func logLine(containing parts: [String]) -> Int? {
        process.standardError.split(separator: "\n").firstIndex { line in parts.allSatisfy { line.contains($0) } }
    }

    /// Waits until the node says it is ready (its worker, status and spool services started).
    public func waitUntilReady(timeout: Duration = .seconds(30)) async throws {
        try await Poll.until("\(process.label) to log \"Node ready\"", timeout: timeout, context: { process.stderrTail() }) {
            if process.standardError.contains(#"msg="Node ready""#) { return true }
            // Fail at once, with its log, if it exited during start-up.
            if let ended = process.termination {
                throw ChildProcess.Failure("\(process.label) ended during start-up (\(ended))\n\(process.stderrTail())")
            }
            return false
        }
    }
}
