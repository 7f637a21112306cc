import ReelCore
import ReelLoopbackHTTP

/// One scripted answer of a fake provider: what a test queues for a route to meet the error,
/// the stall or the cut-off body it wants the adapter to handle.
public enum FakeReply: Sendable {
    case json(status: Int, JSONValue, headers: [(String, String)] = [])
    case raw(status: Int, contentType: String, [UInt8], headers: [(String, String)] = [])
    /// Declares `declared` bytes and sends `sent` of them before closing.
    case truncated(declared: Int, sent: [UInt8])
    /// Answers nothing until the client gives up.
    case stall

    /// Writes this answer with the fake's own headers (request id and the like) first.
    public func send(on connection: LoopbackConnection, headers base: [(String, String)]) {
        switch self {
        case .json(let status, let json, let headers):
            var body: [UInt8] = []
            json.write(to: &body)
            connection.respond(status: status, headers: base + [("Content-Type", "application/json")] + headers, body: body)
        case .raw(let status, let type, let body, let headers):
            connection.respond(status: status, headers: base + [("Content-Type", type)] + headers, body: body)
        case .truncated(let declared, let sent):
            connection.writeHead(status: 200, headers: base + [("Content-Type", "application/octet-stream"), ("Content-Length", String(declared))])
            _ = connection.write(sent)
            connection.close()
        case .stall:
            _ = connection.waitUntilClosed(timeout: .seconds(30))
        }
    }
}
