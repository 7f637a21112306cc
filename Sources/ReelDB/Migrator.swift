import Foundation
import Logging

/// Applies `Migrations/NNNN_name.sql` in order, each in its own transaction, under an advisory
/// lock so that several nodes starting at once apply each migration exactly once.
///
/// Every applied file is recorded with its SHA-256; a file edited after it was applied stops
/// the migrator (and `reeld run`), because the database no longer matches what the file says.
public struct Migrator: Sendable {
    /// One migration file.
    public struct Migration: Sendable, Hashable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    /// What `migrate` did.
    public struct Report: Sendable {
        public var applied: [String]
        public var alreadyApplied: Int
    }

    public let directory: URL
    private let logger: Logger

    /// Key for pg_advisory_lock: an arbitrary constant that only reeld's migrator takes.
    static let lockKey: Int64 = 0x7265_656C_6D69_67

    public init(directory: URL, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// Reads and orders the migration files; refuses gaps in numbering and duplicate versions.
    public func migrations() throws -> [Migration] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }.sorted()
        var result: [Migration] = []
        for name in names {
            guard let version = Int(name.prefix { $0.isNumber }), name.first?.isNumber == true else {
                throw MigrationError("\(name): migration files are named NNNN_name.sql")
            }
            if result.contains(where: { $0.version == version }) {
                throw MigrationError("\(name): version \(version) appears twice")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            result.append(Migration(version: version, name: name, sql: sql))
        }
        guard !result.isEmpty else { throw MigrationError("no migrations in \(directory.path)") }
        return result
    }

    /// Applies pending migrations. Safe to run from several processes at once.
    @discardableResult
    public func migrate(url: String) throws -> Report {
        let files = try migrations()
        let conn = try PostgresConnection(url: url)
        try conn.query("select pg_advisory_lock($1::bigint)", [Self.lockKey])
        defer { _ = try? conn.query("select pg_advisory_unlock($1::bigint)", [Self.lockKey]) }
        try conn.execute("""
            set client_min_messages = warning;
            create schema if not exists reeld;
            create table if not exists reeld.schema_migrations (
                version int primary key,
                name text not null,
                checksum text not null,
                applied_at timestamptz not null default now()
            );
            """)
        let applied = try appliedChecksums(conn)
        try verify(files: files, applied: applied, conn)
        var report = Report(applied: [], alreadyApplied: applied.count)
        for migration in files where applied[migration.version] == nil {
            try conn.execute("begin")
            do {
                try conn.execute(migration.sql)
                try conn.query(
                    "insert into reeld.schema_migrations (version, name, checksum) values ($1::int, $2, encode(sha256(convert_to($3, 'UTF8')), 'hex'))",
                    [migration.version, migration.name, migration.sql])
                try conn.execute("commit")
            } catch {
                _ = try? conn.execute("rollback")
                throw MigrationError("\(migration.name): \(error)")
            }
            logger.info("Applied migration", metadata: ["migration": "\(migration.name)"])
            report.applied.append(migration.name)
        }
        return report
    }

    /// Checks that the database has exactly the migrations on disk, unedited; `reeld run` calls
    /// this before READY so that a node never works against a schema it does not know.
    public func check(url: String) throws {
        let files = try migrations()
        let conn = try PostgresConnection(url: url)
        let exists = try conn.query("select to_regclass('reeld.schema_migrations') is not null as present")[0].bool("present")
        guard exists else { throw MigrationError("the database has no reeld schema: run `reeld migrate`") }
        let applied = try appliedChecksums(conn)
        try verify(files: files, applied: applied, conn)
        let pending = files.filter { applied[$0.version] == nil }.map(\.name)
        if !pending.isEmpty {
            throw MigrationError("pending migrations \(pending.joined(separator: ", ")): run `reeld migrate`")
        }
    }

    private func appliedChecksums(_ conn: PostgresConnection) throws -> [Int: (name: String, checksum: String)] {
        var result: [Int: (name: String, checksum: String)] = [:]
        for row in try conn.query("select version, name, checksum from reeld.schema_migrations") {
            result[try row.int("version")] = (try row.string("name"), try row.string("checksum"))
        }
        return result
    }

    private func verify(files: [Migration], applied: [Int: (name: String, checksum: String)], _ conn: PostgresConnection) throws {
        for migration in files {
            guard let record = applied[migration.version] else { continue }
            if record.checksum != (try Self.checksum(migration.sql, conn)) {
                throw MigrationError("\(migration.name) was edited after it was applied (checksum differs); add a new migration instead")
            }
        }
        let known = Set(files.map(\.version))
        if let unknown = applied.keys.sorted().first(where: { !known.contains($0) }) {
            throw MigrationError("the database has migration \(applied[unknown]!.name), which this reeld does not know: it is older than the schema")
        }
    }

    /// The server computes the checksum, the same way it recorded it.
    static func checksum(_ sql: String, _ conn: PostgresConnection) throws -> String {
        try conn.query("select encode(sha256(convert_to($1, 'UTF8')), 'hex') as sum", [sql])[0].string("sum")
    }
}

/// A migration problem, with the file it concerns.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
