import Foundation

/// A response body streamed to a file: it was never held whole in memory.
public struct HTTPDownload: Sendable {
    public var file: URL
    public var byteCount: Int64
    /// SHA-256 of the bytes written, lower-case hex.
    public var sha256: String
    public var status: Int
    public var headers: HTTPHeaders
    public var requestID: String?
    public var contentType: String? { headers["content-type"] }
    public var url: String
}
