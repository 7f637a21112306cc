/// A response whose status was not 2xx (nor a redirect the request chose to follow).
public struct HTTPStatusFailure: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// The body, up to 64 KiB (a download's error body) or the request's body limit.
    public var body: [UInt8]
    /// The provider's error fields, when the body is JSON.
    public var error: ProviderErrorBody?
    public var rate: RateLimitHints
}
