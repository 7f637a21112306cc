import ReelCore

/// A successful (2xx) response held in memory.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The provider's id for this request, from the configured headers.
    public var requestID: String?
    public var rate: RateLimitHints
    /// The URL that answered, after any redirects, without its query.
    public var url: String

    /// The body parsed as JSON.
    public func json() throws(JSONSyntaxError) -> JSONValue { try JSONValue(parsing: body) }
}
