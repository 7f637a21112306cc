import Foundation
import ReelDB

/// A throwaway PostgreSQL cluster in a directory of its own, reachable only by a Unix socket
/// inside it: the demo's database and the tests'. Never used in production.
///
/// PostgreSQL refuses to run as root, so when reeld runs as root the cluster's directory is
/// given to the `postgres` user and the server tools run through `runuser`.
public struct LocalCluster: Sendable {
    public let directory: URL
    public let databaseName: String

    public init(directory: URL, databaseName: String = "reeld") {
        self.directory = directory.standardizedFileURL
        self.databaseName = databaseName
    }

    var dataDirectory: URL { directory.appendingPathComponent("data") }
    var socketDirectory: URL { directory.appendingPathComponent("run") }
    var logFile: URL { directory.appendingPathComponent("postgres.log") }

    /// A libpq URL for a database in this cluster.
    public func url(database: String? = nil) -> String {
        "postgresql://postgres@/\(database ?? databaseName)?host=\(socketDirectory.path)"
    }

    /// Creates the cluster if needed, starts it if it is not running, and creates the database.
    public func start() throws {
        let bin = try Self.binDirectory()
        let fm = FileManager.default
        try fm.createDirectory(at: socketDirectory, withIntermediateDirectories: true)
        if getuid() == 0 {
            try Self.run("/bin/chown", ["-R", "postgres:postgres", directory.path])
        }
        if !fm.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            try runAsOwner(bin.appendingPathComponent("initdb").path, [
                "-D", dataDirectory.path, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-instructions",
            ])
        }
        let pidFile = dataDirectory.appendingPathComponent("postmaster.pid")
        let running = fm.fileExists(atPath: pidFile.path)
            && (try? runAsOwner(bin.appendingPathComponent("pg_ctl").path, ["status", "-D", dataDirectory.path])) != nil
        if !running {
            // No TCP at all; fsync off because a throwaway cluster trades durability for speed.
            let options = "-k \(socketDirectory.path) -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            try runAsOwner(bin.appendingPathComponent("pg_ctl").path, [
                "start", "-w", "-t", "60", "-D", dataDirectory.path, "-l", logFile.path, "-o", options,
            ])
        }
        try createDatabase(databaseName)
    }

    /// Creates a database if it does not exist, optionally as a copy of a template.
    public func createDatabase(_ name: String, template: String? = nil) throws {
        let conn = try PostgresConnection(url: url(database: "postgres"))
        let exists = try conn.query("select exists (select from pg_database where datname = $1) as present", [name])[0].bool("present")
        if !exists {
            // Identifiers cannot be bound; these names are reeld's own, checked to be plain.
            precondition(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }, "database name must be plain")
            var sql = "create database \"\(name)\""
            if let template {
                precondition(template.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }, "template name must be plain")
                sql += " template \"\(template)\""
            }
            try conn.execute(sql)
        }
    }

    /// Stops the server (fast shutdown).
    public func stop() throws {
        let bin = try Self.binDirectory()
        try runAsOwner(bin.appendingPathComponent("pg_ctl").path, ["stop", "-m", "fast", "-w", "-D", dataDirectory.path])
    }

    /// The newest installed PostgreSQL server's bin directory.
    static func binDirectory() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw DatabaseError(kind: .connection, message: "no PostgreSQL server under /usr/lib/postgresql: apt-get install postgresql")
        }
        return root.appendingPathComponent("\(newest)/bin")
    }

    @discardableResult
    private func runAsOwner(_ tool: String, _ arguments: [String]) throws -> String {
        if getuid() == 0 {
            return try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", tool] + arguments)
        }
        return try Self.run(tool, arguments)
    }

    /// Runs a tool and waits for it, returning what it printed.
    ///
    /// posix_spawn and waitpid, not Foundation's Process: `pg_ctl start` leaves a server running
    /// that inherits descriptors, and Process was seen to never reap its child in test processes.
    /// Output goes to a file for the same reason: a pipe would stay open in the server.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-tool-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Run from / (env -C) so that the postgres user never needs access to our working directory.
        let argv: [UnsafeMutablePointer<CChar>?] = (["/usr/bin/env", "-C", "/", tool] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw DatabaseError(kind: .connection, message: "cannot run \(tool): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw DatabaseError(
                kind: .connection,
                message: "\((tool as NSString).lastPathComponent) \(arguments.first ?? "") failed (\(exited ? "exit \(code)" : "signal \(status & 0x7f)")): \(text.suffix(600))")
        }
        return text
    }
}
