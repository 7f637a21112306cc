/// Why an exchange failed, classified once, here: adapters decide retry or give up from `kind`
/// and `certainlyNotAccepted` without reading libcurl's codes.
///
/// Its description names the method, the URL without its query, what happened and the
/// provider's request id; secret header values are scrubbed from everything it holds as text,
/// even when a server echoes them back.
public struct HTTPError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Kind: Sendable {
        /// The URL or a redirect broke the client's rules (scheme, host); nothing was sent there.
        case refused(String)
        /// Could not resolve, connect, or finish TLS; the connection broke; the body was cut short.
        case network(String)
        case timeout(HTTPTimeout)
        /// The server answered with a status that is not success.
        case status(HTTPStatusFailure)
        /// The body (in memory) or the download (to a file) would exceed its limit; stopped there.
        case bodyTooLarge(limit: Int64)
        /// The download could not be written (disk full, directory gone).
        case file(String)
        /// The calling task was cancelled.
        case cancelled
        /// The client stopped (shutdown) before the exchange could finish.
        case shutdown
    }

    public var kind: Kind
    public var method: HTTPMethod
    /// Scheme, host, port and path; never the query.
    public var url: String
    /// True when the server cannot have received the request: refused locally, no connection,
    /// TLS not established, cancelled or shut down before sending. A paid call may then be sent
    /// again without a second charge.
    public var certainlyNotAccepted: Bool
    /// The provider's id for this request (`x-request-id`, `request-id`, or the error body's).
    public var requestID: String?

    /// The server's `Retry-After` (or Google's `retryDelay`), for a status error that had one.
    public var retryAfter: Duration? {
        guard case .status(let failure) = kind else { return nil }
        return failure.rate.retryAfter ?? failure.error?.retryDelay
    }

    /// The HTTP status, for a status error.
    public var status: Int? {
        if case .status(let failure) = kind { return failure.status }
        return nil
    }

    public var description: String {
        var text = "\(method) \(url): "
        switch kind {
        case .refused(let why): text += "refused: \(why)"
        case .network(let why): text += "network error: \(why)"
        case .timeout(let which): text += "\(which.rawValue) timeout"
        case .status(let failure):
            text += "HTTP \(failure.status)"
            if let type = failure.error?.type { text += " \(type)" }
            if let code = failure.error?.code { text += " (\(code))" }
            if let message = failure.error?.message { text += ": \(String(message.prefix(500)))" }
        case .bodyTooLarge(let limit): text += "response larger than its limit of \(limit) bytes"
        case .file(let why): text += "cannot write the download: \(why)"
        case .cancelled: text += "cancelled"
        case .shutdown: text += "the HTTP client has stopped"
        }
        var notes: [String] = []
        if let requestID { notes.append("request id \(requestID)") }
        if let retryAfter { notes.append("retry after \(Self.seconds(retryAfter)) s") }
        if certainlyNotAccepted { notes.append("not sent") }
        if !notes.isEmpty { text += " [" + notes.joined(separator: "; ") + "]" }
        return text
    }

    public var debugDescription: String { description }

    private static func seconds(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds == seconds.rounded() ? String(Int64(seconds)) : String(format: "%.3f", seconds)
    }
}

import Foundation
