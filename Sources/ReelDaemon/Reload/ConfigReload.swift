import Foundation
import ReelConfig
import ReelSystemd

/// What `reeld run` gives its node so that SIGHUP reloads the configuration: the file to read
/// again and the process's log level, which a reload sets.
public struct ConfigReload: Sendable {
    /// The file given with `--config`.
    public var path: String
    /// The level every log handler of the process reads (`bootstrapLogging`).
    public var logLevel: LogLevelSwitch
    /// For `${NAME}` in paths, as at start.
    public var environment: [String: String]

    public init(path: String, logLevel: LogLevelSwitch, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.path = path
        self.logLevel = logLevel
        self.environment = environment
    }
}
