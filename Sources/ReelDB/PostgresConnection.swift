import CPostgres
import Foundation
import Logging

/// One libpq connection. Not thread-safe, and blocking: `Database` hands each to one caller at
/// a time and makes its calls on a `BlockingPool` thread.
public final class PostgresConnection {
    private var handle: OpaquePointer?
    /// Statement names by SQL text. The queue runs the same few statements thousands of times
    /// a second; parsing and planning each again cost about a tenth of the server's time.
    private var prepared: [String: String] = [:]
    /// Past this many distinct statements, further ones run unprepared (ad-hoc SQL must not
    /// grow the server's memory without bound).
    static let maximumPrepared = 256

    /// Where the server's notices go; the connection's receiver points at it, so it lives as long.
    private let notices: NoticeLog

    /// Connects with a libpq connection string or URL (`postgresql://user@/db?host=/run/pg`).
    /// The server's notices (`NOTICE: … already exists, skipping`) go to `logger` at debug
    /// level; without one they are dropped.
    public init(url: String, logger: Logger? = nil) throws {
        notices = NoticeLog(logger: logger)
        let conn = PQconnectdb(url)
        guard let conn, PQstatus(conn) == CONNECTION_OK else {
            let message = conn.map { Self.errorText($0) } ?? "out of memory"
            if let conn { PQfinish(conn) }
            throw DatabaseError(kind: .connection, message: "cannot connect to PostgreSQL: \(ConnectionSecrets(url).redact(message))")
        }
        handle = conn
        // libpq's own receiver prints every notice to stderr, where it interleaves with reeld's
        // output (a bench's figures, a CLI's answer) and bypasses the log's levels and format.
        PQsetNoticeReceiver(conn, { context, result in
            guard let context, let result else { return }
            Unmanaged<NoticeLog>.fromOpaque(context).takeUnretainedValue().record(result)
        }, Unmanaged.passUnretained(notices).toOpaque())
        // Times go over the wire in UTC, and a statement may not hang a worker forever. No JIT:
        // every statement reeld sends is short, and once a table is large a plan's estimated
        // cost passes jit_above_cost, whose compilation would take longer than the statement
        // (a claim run with its sorts disabled took 3.7 s that way; Migrations/functions/claim_fair.sql).
        _ = try execute("set timezone = 'UTC'; set statement_timeout = '60s'; set jit = off")
    }

    deinit { if let handle { PQfinish(handle) } }

    public var isHealthy: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// The socket, for waiting on notifications with poll().
    var socket: Int32 { handle.map { PQsocket($0) } ?? -1 }

    /// Runs one statement with `$n` parameters bound as text, as a prepared statement of this
    /// connection (prepared on first use).
    @discardableResult
    public func query(_ sql: String, _ parameters: [any SQLParameter] = []) throws -> PostgresRows {
        guard let handle else { throw DatabaseError(kind: .connection, message: "connection closed") }
        let texts = parameters.map { $0.sqlText }
        // Parameters travel as C strings, which end at the first NUL: such a value would reach
        // the server cut short (two different keys made one), so it is refused whole.
        if let index = texts.firstIndex(where: { $0?.utf8.contains(0) == true }) {
            throw DatabaseError(
                kind: .server, message: "parameter $\(index + 1) holds a NUL (U+0000) character, which PostgreSQL text cannot carry",
                sqlState: "22021")
        }
        // strdup keeps each C string alive for the call; freed right after.
        let cStrings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.flatMap { strdup($0) } }
        defer { cStrings.forEach { free($0) } }
        return try cStrings.withUnsafeBufferPointer { buffer in
            try buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(buffer.count, 1)) { values in
                let values = texts.isEmpty ? nil : values
                guard let name = try statementName(for: sql, parameterCount: texts.count) else {
                    return try consume(PQexecParams(handle, sql, Int32(texts.count), nil, values, nil, nil, 0))
                }
                do {
                    return try consume(PQexecPrepared(handle, name, Int32(texts.count), values, nil, nil, 0))
                } catch let error as DatabaseError where error.sqlState == "0A000" && error.message.contains("cached plan") {
                    // A migration changed a table under the statement's result: forget it, run it afresh.
                    prepared[sql] = nil
                    _ = try? execute("deallocate \(name)")
                    return try consume(PQexecParams(handle, sql, Int32(texts.count), nil, values, nil, nil, 0))
                }
            }
        }
    }

    /// The prepared statement for `sql`, preparing it if needed; nil when the cache is full.
    private func statementName(for sql: String, parameterCount: Int) throws -> String? {
        if let name = prepared[sql] { return name }
        guard prepared.count < Self.maximumPrepared, let handle else { return nil }
        let name = "reeld_\(prepared.count + 1)"
        try consume(PQprepare(handle, name, sql, Int32(parameterCount), nil))
        prepared[sql] = name
        return name
    }

    /// Runs SQL text that may hold several statements (migrations), without parameters.
    @discardableResult
    public func execute(_ sql: String) throws -> PostgresRows {
        guard let handle else { throw DatabaseError(kind: .connection, message: "connection closed") }
        return try consume(PQexec(handle, sql))
    }

    @discardableResult
    private func consume(_ result: OpaquePointer?) throws -> PostgresRows {
        guard let result else {
            throw DatabaseError(kind: .connection, message: handle.map { Self.errorText($0) } ?? "no connection")
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            let rowCount = Int(PQntuples(result))
            let columnCount = Int(PQnfields(result))
            let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
            var values: [[String?]] = []
            values.reserveCapacity(rowCount)
            for r in 0..<rowCount {
                var row: [String?] = []
                row.reserveCapacity(columnCount)
                for c in 0..<columnCount {
                    if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                        row.append(nil)
                    } else {
                        row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                    }
                }
                values.append(row)
            }
            let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
            return PostgresRows(columns: columns, values: values, affectedRows: affected)
        default:
            let field = { (code: Int32) -> String? in
                PQresultErrorField(result, code).map { String(cString: $0) }
            }
            let sqlState = field(Int32(UInt8(ascii: "C")))
            let message = field(Int32(UInt8(ascii: "M"))) ?? String(cString: PQresultErrorMessage(result))
            let detail = field(Int32(UInt8(ascii: "D")))
            let broken = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
            throw DatabaseError(kind: broken ? .connection : .server, message: message, sqlState: sqlState, detail: detail)
        }
    }

    /// Reads what arrived on the socket and returns the notifications in it.
    func drainNotifications() throws -> [DatabaseNotification] {
        guard let handle else { throw DatabaseError(kind: .connection, message: "connection closed") }
        guard PQconsumeInput(handle) == 1 else {
            throw DatabaseError(kind: .connection, message: Self.errorText(handle))
        }
        var found: [DatabaseNotification] = []
        while let notify = PQnotifies(handle) {
            found.append(DatabaseNotification(
                channel: String(cString: notify.pointee.relname), payload: String(cString: notify.pointee.extra)))
            PQfreemem(notify)
        }
        return found
    }

    private static func errorText(_ conn: OpaquePointer) -> String {
        String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A NOTIFY received on a LISTEN channel.
public struct DatabaseNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String

    public init(channel: String, payload: String) {
        self.channel = channel
        self.payload = payload
    }
}
