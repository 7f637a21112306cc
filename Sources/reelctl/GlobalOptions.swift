import ArgumentParser
import Foundation
import Logging
import ReelConfig
import ReelDB

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp("libpq connection URL or keyword string (default: $REELD_DATABASE_URL).", valueName: "url"))
    var databaseURL: String?

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("reeld's configuration file, read for its database as the daemon reads it.", valueName: "path"))
    var configPath: String = GlobalOptions.defaultConfigPath

    static let defaultConfigPath = "/etc/reeld/reeld.toml"

    /// The URL given, else the environment's, else the one in reeld's configuration (its `url`
    /// or `url_file`), so that an operator on a node reaches the database the daemon uses.
    /// A usage error (exit 64) when none is set; the default configuration file is only read
    /// when it exists, a named one must.
    func resolvedURL(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let databaseURL, !databaseURL.isEmpty { return databaseURL }
        if let url = environment["REELD_DATABASE_URL"], !url.isEmpty { return url }
        if configPath != Self.defaultConfigPath || FileManager.default.fileExists(atPath: configPath) {
            let config: ReelConfig
            do {
                config = try ReelConfig.load(path: configPath, environment: environment)
            } catch {
                throw ValidationError("\(error)")
            }
            guard !config.database.url.isEmpty else {
                throw ValidationError("no database: \(configPath) sets neither database.url nor database.url_file")
            }
            return config.database.url
        }
        throw ValidationError("no database: pass --database-url, set REELD_DATABASE_URL, or pass --config with reeld's configuration")
    }

    /// A one-connection pool: reelctl runs a statement or two and exits.
    func openDatabase() throws -> Database {
        var logger = Logger(label: "reelctl")
        logger.logLevel = .error
        return Database(configuration: .init(url: try resolvedURL(), maxConnections: 1), logger: logger)
    }

    /// Runs `body` with the database open, closing it afterwards, with failures reported as
    /// reelctl's exit codes (`reportingFailures`): every database subcommand's frame.
    func withDatabase(_ body: (Database) async throws -> Void) async throws {
        try await reportingFailures {
            let database = try openDatabase()
            defer { database.close() }
            try await body(database)
        }
    }
}
