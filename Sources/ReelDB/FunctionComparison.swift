import Foundation

/// The function files this binary ships, compared with the versions a database recorded.
struct FunctionComparison {
    /// One row of `reeld.schema_functions`.
    struct Record {
        var name: String
        var checksum: String
        var current: Bool
    }

    /// Files the database has not applied in this version: this binary is newer.
    var pending: [String] = []
    /// Files whose version the database has replaced since: this binary is older.
    var superseded: [String] = []
    /// Files the database has applied and this binary does not ship: this binary is older.
    var unknown: [String] = []

    init(shipped: [(name: String, checksum: String)], recorded: [Record]) {
        let versions = Dictionary(grouping: recorded, by: \.name)
        for file in shipped {
            let known = versions[file.name] ?? []
            if known.contains(where: { $0.current && $0.checksum == file.checksum }) { continue }
            if known.contains(where: { !$0.current && $0.checksum == file.checksum }) {
                superseded.append(file.name)
            } else {
                pending.append(file.name)
            }
        }
        let names = Set(shipped.map(\.name))
        unknown = recorded.filter { $0.current && !names.contains($0.name) }.map(\.name).sorted()
    }

    /// Why this binary must not run against, or migrate, the database; nil when it may.
    var newerDatabase: MigrationError? {
        guard !superseded.isEmpty || !unknown.isEmpty else { return nil }
        var parts: [String] = []
        if !superseded.isEmpty {
            parts.append("a later version of \(superseded.map { "functions/\($0)" }.joined(separator: ", ")) was applied")
        }
        if !unknown.isEmpty {
            parts.append("it has \(unknown.map { "functions/\($0)" }.joined(separator: ", ")), which this reeld does not ship")
        }
        return MigrationError("""
            the database's schema is newer than this reeld (\(parts.joined(separator: "; "))): \
            run the reeld that migrated it, or a newer one
            """)
    }
}
