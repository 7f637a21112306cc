import Foundation
import ReelCore

/// A query's result, copied out of libpq: text values by row and column.
public struct PostgresRows: Sendable, RandomAccessCollection {
    public let columns: [String]
    let values: [[String?]]
    /// Rows changed by INSERT/UPDATE/DELETE (PQcmdTuples).
    public let affectedRows: Int

    init(columns: [String], values: [[String?]], affectedRows: Int) {
        self.columns = columns
        self.values = values
        self.affectedRows = affectedRows
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { values.count }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }
}

/// One row; columns by name or position, decoded from PostgreSQL's text format.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    func raw(_ column: String) throws -> String? {
        guard let c = rows.columns.firstIndex(of: column) else {
            throw DatabaseError(kind: .decoding, message: "no column \(column) in result (\(rows.columns.joined(separator: ", ")))")
        }
        return rows.values[index][c]
    }

    func required(_ column: String) throws -> String {
        guard let text = try raw(column) else {
            throw DatabaseError(kind: .decoding, message: "column \(column) is NULL")
        }
        return text
    }

    public func isNull(_ column: String) throws -> Bool { try raw(column) == nil }

    public func string(_ column: String) throws -> String { try required(column) }
    public func optionalString(_ column: String) throws -> String? { try raw(column) }

    public func int(_ column: String) throws -> Int {
        let text = try required(column)
        guard let value = Int(text) else { throw decoding(column, text, "integer") }
        return value
    }

    public func optionalInt(_ column: String) throws -> Int? { try raw(column) == nil ? nil : try int(column) }

    public func double(_ column: String) throws -> Double {
        let text = try required(column)
        guard let value = Double(text) else { throw decoding(column, text, "number") }
        return value
    }

    public func optionalDouble(_ column: String) throws -> Double? { try raw(column) == nil ? nil : try double(column) }

    public func bool(_ column: String) throws -> Bool {
        let text = try required(column)
        switch text {
        case "t", "true": return true
        case "f", "false": return false
        default: throw decoding(column, text, "boolean")
        }
    }

    public func uuid(_ column: String) throws -> UUID {
        let text = try required(column)
        guard let value = UUID(text: text) else { throw decoding(column, text, "uuid") }
        return value
    }

    public func optionalUUID(_ column: String) throws -> UUID? { try raw(column) == nil ? nil : try uuid(column) }

    public func json(_ column: String) throws -> JSONValue {
        let text = try required(column)
        do { return try JSONValue(parsing: Array(text.utf8)) } catch { throw decoding(column, String(text.prefix(80)), "json") }
    }

    public func optionalJSON(_ column: String) throws -> JSONValue? { try raw(column) == nil ? nil : try json(column) }

    /// Reads a column selected as `extract(epoch from …)`: the queue selects times that way so
    /// no timestamp text format has to be parsed.
    public func epochDate(_ column: String) throws -> Date { Date(timeIntervalSince1970: try double(column)) }
    public func optionalEpochDate(_ column: String) throws -> Date? { try raw(column) == nil ? nil : try epochDate(column) }

    private func decoding(_ column: String, _ text: String, _ expected: String) -> DatabaseError {
        DatabaseError(kind: .decoding, message: "column \(column): expected \(expected), got \(text)")
    }
}
