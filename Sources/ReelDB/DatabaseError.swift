/// A failure talking to PostgreSQL, with the server's SQLSTATE when there is one.
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Could not connect, or the connection broke: worth retrying later.
        case connection
        /// The server refused the statement (constraint, raise exception, syntax…).
        case server
        /// The result did not have the shape the caller expected.
        case decoding
    }

    public var kind: Kind
    public var message: String
    /// SQLSTATE, e.g. "22023" for reeld.submit_job()'s validation errors, "23505" for unique violations.
    public var sqlState: String?
    public var detail: String?

    public init(kind: Kind, message: String, sqlState: String? = nil, detail: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
    }

    /// The connection itself failed (as opposed to the statement): the caller may retry.
    public var isConnectionFailure: Bool {
        kind == .connection || sqlState.map { $0.hasPrefix("08") || $0 == "57P01" } ?? false
    }

    /// reeld.submit_job() refused the input (SQLSTATE 22023), a constraint did, or the value
    /// cannot be stored at all (malformed text, a NUL character, an unsupported escape in jsonb).
    public var isInvalidInput: Bool {
        sqlState.map { ["22023", "22P02", "22P05", "22021"].contains($0) || $0.hasPrefix("23") } ?? false
    }

    public var description: String {
        var text = message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += " — \(detail)" }
        return text
    }
}
