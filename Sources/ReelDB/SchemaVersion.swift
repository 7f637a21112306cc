/// The schema a reeld binary knows: its numbered migrations and the checksum of each function
/// file it ships, as `Migrator.check` found them applied when the node started.
///
/// A running node compares it with the database again when a migration announces itself
/// (NOTIFY `reeld_schema`) and on a timer: a database migrated by a newer reeld may have
/// tables, claims and completions this binary would misread, so the node stops claiming.
public struct SchemaVersion: Sendable, Hashable {
    /// The channel `Migrator.migrate` notifies after it changed anything.
    public static let channel = "reeld_schema"

    public var migrations: Set<Int>
    /// Function file name → SHA-256 of its text.
    public var functions: [String: String]

    public init(migrations: Set<Int>, functions: [String: String]) {
        self.migrations = migrations
        self.functions = functions
    }

    /// What the database has that this binary does not know, in words; nil when it has nothing.
    public func newerSchema(in database: Database) async throws -> String? {
        var unknown: [String] = []
        for row in try await database.query("select version, name from reeld.schema_migrations order by version")
        where !migrations.contains(try row.int("version")) {
            unknown.append("migration \(try row.string("name"))")
        }
        for row in try await database.query(
            "select name, checksum from reeld.schema_functions where superseded_at is null order by name")
        where functions[try row.string("name")] != (try row.string("checksum")) {
            unknown.append("functions/\(try row.string("name"))")
        }
        return unknown.isEmpty ? nil : unknown.joined(separator: ", ")
    }
}
