import ArgumentParser
import Foundation
import Logging
import ReelDB

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp("libpq connection URL or keyword string (default: $REELD_DATABASE_URL).", valueName: "url"))
    var databaseURL: String?

    /// The URL given, else the environment's; a usage error (exit 64) when neither is set.
    func resolvedURL(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let databaseURL, !databaseURL.isEmpty { return databaseURL }
        if let url = environment["REELD_DATABASE_URL"], !url.isEmpty { return url }
        throw ValidationError("no database: pass --database-url or set REELD_DATABASE_URL")
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
