/// An HTTP request method. Providers use these five; the rest of HTTP's methods are not needed.
public enum HTTPMethod: String, Sendable, Hashable, CustomStringConvertible {
    case get = "GET"
    case head = "HEAD"
    case post = "POST"
    case put = "PUT"
    case patch = "PATCH"
    case delete = "DELETE"

    public var description: String { rawValue }
}
