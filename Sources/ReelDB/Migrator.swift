import Foundation
import Logging

/// Brings a database to the schema this reeld ships in its migrations directory, or tells why not.
///
/// The directory holds two kinds of file:
///
/// - `NNNN_name.sql`: tables, types, indexes, grants and data changes, applied once each, in
///   order, each in its own transaction (or none, for `create index concurrently`: see
///   `Migration.runsOutsideTransaction`), and recorded with its SHA-256 in
///   `reeld.schema_migrations`. An applied file must never change: one that was edited stops
///   the migrator (and `reeld run`), because the database no longer matches what it says.
/// - `functions/NAME.sql`: functions, triggers and views, written to be run again
///   (`create or replace`, or `drop … if exists` and create). After the numbered migrations,
///   every file whose content differs from the version the database last applied is run again,
///   all of them in one transaction in file-name order (a file that needs another's object is
///   named to sort after it). `reeld.schema_functions` records each version applied, by name and
///   checksum. A numbered migration may not call these functions: on a new database they do not
///   exist yet when it runs. A file that changes a function's arguments or result type drops
///   the old one first, since `create or replace` cannot.
///
/// Both steps run under one advisory lock, so several nodes migrating at once apply each file
/// exactly once; the others wait, then find nothing to do.
///
/// Mixed versions. Only `migrate` (`reeld migrate`) writes, and NOTIFYs `reeld_schema` when it
/// changed anything, so that running nodes of an older reeld stop claiming (`SchemaVersion`); `check`, which `reeld run` calls
/// before it starts, refuses to run against functions other than the ones this binary ships,
/// and says which side is behind. A version that a later one replaced stays recorded, marked
/// superseded, so a binary whose file matches a superseded version knows it is older than the
/// database: it refuses to start, and its `migrate` refuses to put the old body back. A file
/// the database has never seen makes this binary the newer one: `reeld migrate`. A function
/// the database has that this binary does not ship means the database is newer. So a function
/// file, once released, is never deleted: to retire an object, its file becomes a
/// `drop … if exists`. And a file is never restored byte for byte to an earlier version (that
/// version reads as superseded): reword its header.
///
/// The migrations were squashed into a baseline (0001–0004) before the first release. A
/// database made by the files before it has `reeld.schema_migrations` but no
/// `reeld.schema_functions`, and is refused with a message that says so.
public struct Migrator: Sendable {
    /// One numbered migration file.
    public struct Migration: Sendable, Hashable {
        public var version: Int
        public var name: String
        public var sql: String

        /// Whether the file runs outside a transaction: its header (the comment lines it starts
        /// with) holds the line `-- reeld: no-transaction`. For `create index concurrently` on a
        /// busy table such as `jobs`, which PostgreSQL refuses inside a transaction, and which,
        /// unlike a plain `create index`, lets inserts and claims go on while the index builds.
        /// Such a file holds one statement (PostgreSQL runs the statements of one string as
        /// one transaction), and one that fails half-way leaves an invalid index behind:
        /// its file should say `if not exists` and the operator drops the invalid index before
        /// migrating again.
        public var runsOutsideTransaction: Bool {
            for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty { continue }
                guard text.hasPrefix("--") else { return false }
                if text.lowercased().replacingOccurrences(of: " ", with: "") == "--reeld:no-transaction" { return true }
            }
            return false
        }
    }

    /// One file of `functions/`, named by its file name (`claim_fair.sql`).
    public struct FunctionFile: Sendable, Hashable {
        public var name: String
        public var sql: String
    }

    /// What `migrate` did.
    public struct Report: Sendable {
        /// Numbered migrations applied by this run.
        public var applied: [String]
        public var alreadyApplied: Int
        /// Function files applied (new or changed) by this run.
        public var functionsApplied: [String] = []
    }

    public let directory: URL
    private let logger: Logger
    /// How long a statement of a migration may wait for a lock. A migration that alters `jobs`
    /// while a long transaction reads it would otherwise wait, and every claim would queue up
    /// behind its lock request: better to fail, say why, and be run again.
    public let lockTimeout: Duration

    /// Key for pg_advisory_lock: an arbitrary constant that only reeld's migrator takes.
    static let lockKey: Int64 = 0x7265_656C_6D69_67

    public init(directory: URL, logger: Logger, lockTimeout: Duration = .seconds(10)) {
        self.directory = directory
        self.logger = logger
        self.lockTimeout = lockTimeout
    }

    /// Where the function files are: `functions/` inside the migrations directory.
    public var functionsDirectory: URL { directory.appendingPathComponent("functions") }

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

    /// Reads the function files in the order they are applied (by name); none without the directory.
    public func functionFiles() throws -> [FunctionFile] {
        guard FileManager.default.fileExists(atPath: functionsDirectory.path) else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: functionsDirectory.path).filter { $0.hasSuffix(".sql") }.sorted()
        return try names.map { name in
            guard name.dropLast(4).allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) else {
                throw MigrationError("functions/\(name): function files are named with lower-case letters, digits and _")
            }
            return FunctionFile(name: name, sql: try String(contentsOf: functionsDirectory.appendingPathComponent(name), encoding: .utf8))
        }
    }

    /// Applies pending migrations, then new and changed function files. Safe to run from
    /// several processes at once.
    @discardableResult
    public func migrate(url: String) throws -> Report {
        let files = try migrations()
        let functions = try functionFiles()
        let conn = try PostgresConnection(url: url, logger: logger)
        try conn.query("select pg_advisory_lock($1::bigint)", [Self.lockKey])
        defer { _ = try? conn.query("select pg_advisory_unlock($1::bigint)", [Self.lockKey]) }
        try conn.execute("set client_min_messages = warning")
        // The advisory lock above may wait (another node migrating); the migrations' own locks may not.
        try conn.execute("set lock_timeout = '\(max(1, Int(lockTimeout / .milliseconds(1))))ms'")
        // A migration takes as long as its work does (an index built concurrently on a large jobs
        // table, a backfill): the connection's statement timeout is for the queue's statements.
        try conn.execute("set statement_timeout = 0")
        try refusePreBaseline(conn)
        try conn.execute("""
            create schema if not exists reeld;
            create table if not exists reeld.schema_migrations (
                version int primary key,
                name text not null,
                checksum text not null,
                applied_at timestamptz not null default now()
            );
            -- Every version of every function file applied; the current one is not superseded.
            create table if not exists reeld.schema_functions (
                name text not null,
                checksum text not null,
                applied_at timestamptz not null default now(),
                superseded_at timestamptz,
                primary key (name, checksum)
            );
            create unique index if not exists schema_functions_current_idx on reeld.schema_functions (name)
                where superseded_at is null;
            """)
        let applied = try appliedChecksums(conn)
        try verify(files: files, applied: applied, conn)
        // Before anything is written: a binary older than the database's functions changes nothing.
        let shipped = try functions.map { ($0, try Self.checksum($0.sql, conn)) }
        let comparison = FunctionComparison(shipped: shipped.map { ($0.0.name, $0.1) }, recorded: try recordedFunctions(conn))
        if let problem = comparison.newerDatabase { throw problem }

        var report = Report(applied: [], alreadyApplied: applied.count)
        // Running nodes of this version or an older one learn that the schema changed under them
        // (SchemaVersion): told at the end, or on the way out when a later file failed.
        var changed = false
        defer { if changed { _ = try? conn.execute("select pg_notify('\(SchemaVersion.channel)', '')") } }
        for migration in files where applied[migration.version] == nil {
            let record = {
                _ = try conn.query(
                    "insert into reeld.schema_migrations (version, name, checksum) values ($1::int, $2, encode(sha256(convert_to($3, 'UTF8')), 'hex'))",
                    [migration.version, migration.name, migration.sql])
            }
            if migration.runsOutsideTransaction {
                do {
                    try conn.execute(migration.sql)
                    changed = true
                    try record()
                } catch {
                    let hint = "\(error)".contains("transaction block") ? " (a no-transaction migration holds one statement)" : ""
                    throw MigrationError("\(migration.name): \(error)\(hint)")
                }
                logger.info("Applied migration", metadata: ["migration": "\(migration.name)", "transaction": "none"])
                report.applied.append(migration.name)
                continue
            }
            try conn.execute("begin")
            do {
                try conn.execute(migration.sql)
                try record()
                try conn.execute("commit")
                changed = true
            } catch {
                _ = try? conn.execute("rollback")
                throw MigrationError("\(migration.name): \(error)")
            }
            logger.info("Applied migration", metadata: ["migration": "\(migration.name)"])
            report.applied.append(migration.name)
        }

        // One transaction for all of them: the functions change together or not at all.
        let pending = shipped.filter { comparison.pending.contains($0.0.name) }
        guard !pending.isEmpty else { return report }
        try conn.execute("begin")
        var current = "functions/"
        do {
            for (file, checksum) in pending {
                current = "functions/\(file.name)"
                try conn.execute(file.sql)
                try conn.query("update reeld.schema_functions set superseded_at = now() where name = $1 and superseded_at is null", [file.name])
                try conn.query("insert into reeld.schema_functions (name, checksum) values ($1, $2)", [file.name, checksum])
            }
            try conn.execute("commit")
            changed = true
        } catch {
            _ = try? conn.execute("rollback")
            throw MigrationError("\(current): \(error)")
        }
        for (file, _) in pending {
            logger.info("Applied function file", metadata: ["function_file": "\(file.name)"])
            report.functionsApplied.append(file.name)
        }
        return report
    }

    /// Checks that the database has exactly the migrations and function files on disk; `reeld run`
    /// calls this before READY so that a node never works against a schema it does not know.
    /// Returns that schema, for the node to notice later when a newer reeld migrates past it.
    @discardableResult
    public func check(url: String) throws -> SchemaVersion {
        let files = try migrations()
        let functions = try functionFiles()
        let conn = try PostgresConnection(url: url, logger: logger)
        let exists = try conn.query("select to_regclass('reeld.schema_migrations') is not null as present")[0].bool("present")
        guard exists else { throw MigrationError("the database has no reeld schema: run `reeld migrate`") }
        try refusePreBaseline(conn)
        let applied = try appliedChecksums(conn)
        try verify(files: files, applied: applied, conn)
        let hasFunctions = try conn.query("select to_regclass('reeld.schema_functions') is not null as present")[0].bool("present")
        let recorded = hasFunctions ? try recordedFunctions(conn) : []
        let shipped = try functions.map { (name: $0.name, checksum: try Self.checksum($0.sql, conn)) }
        let comparison = FunctionComparison(shipped: shipped, recorded: recorded)
        if let problem = comparison.newerDatabase { throw problem }
        let pending = files.filter { applied[$0.version] == nil }.map(\.name) + comparison.pending.map { "functions/\($0)" }
        if !pending.isEmpty {
            throw MigrationError("pending migrations \(pending.joined(separator: ", ")): run `reeld migrate`")
        }
        return SchemaVersion(
            migrations: Set(files.map(\.version)),
            functions: Dictionary(shipped.map { ($0.name, $0.checksum) }, uniquingKeysWith: { $1 }))
    }

    /// A database made by the migrations before the baseline records them in schema_migrations
    /// and has no schema_functions, which every database migrated since has.
    private func refusePreBaseline(_ conn: PostgresConnection) throws {
        let tables = try conn.query("""
            select to_regclass('reeld.schema_migrations') is not null as migrations,
                   to_regclass('reeld.schema_functions') is not null as functions
            """)[0]
        guard try tables.bool("migrations"), !(try tables.bool("functions")) else { return }
        let last = try conn.query("select name from reeld.schema_migrations order by version desc limit 1")
        guard let newest = last.first else { return }
        throw MigrationError("""
            this database was made by a pre-baseline reeld (its last migration is \(try newest.string("name"))): \
            this reeld's migrations start from a new baseline and cannot upgrade it. \
            Run `reeld migrate` against a new, empty database, or keep using the reeld that made this one.
            """)
    }

    private func appliedChecksums(_ conn: PostgresConnection) throws -> [Int: (name: String, checksum: String)] {
        var result: [Int: (name: String, checksum: String)] = [:]
        for row in try conn.query("select version, name, checksum from reeld.schema_migrations") {
            result[try row.int("version")] = (try row.string("name"), try row.string("checksum"))
        }
        return result
    }

    private func recordedFunctions(_ conn: PostgresConnection) throws -> [FunctionComparison.Record] {
        try conn.query("select name, checksum, superseded_at is null as current from reeld.schema_functions").map {
            FunctionComparison.Record(name: try $0.string("name"), checksum: try $0.string("checksum"), current: try $0.bool("current"))
        }
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
