import Foundation
import Logging
import ReelHTTP
import ReelLoopbackHTTP
import Synchronization
import Testing

/// Runs `body` with a loopback server answering through `handler` and a running client.
func withServer<R>(
    logger: Logger = Logger(label: "reeld.http.test"), _ handler: @escaping LoopbackServer.Handler,
    _ body: (LoopbackServer, HTTPClient) async throws -> R
) async throws -> R {
    let server = try LoopbackServer(handler: handler)
    defer { server.stop() }
    return try await HTTPClient.withRunningClient(logger: logger) { client in try await body(server, client) }
}

/// A one-way handshake from a server thread to the test: `signal` from anywhere, `wait` in a task.
final class Signal<Value: Sendable>: Sendable {
    private let stream: AsyncStream<Value>
    private let continuation: AsyncStream<Value>.Continuation

    init() { (stream, continuation) = AsyncStream.makeStream(of: Value.self) }

    func signal(_ value: Value) { continuation.yield(value) }

    func wait() async -> Value? {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next()
    }
}

/// Keeps every log line with its metadata, to check what reaches a log.
final class LogRecorder: Sendable {
    let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "reeld.http.test") { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            let all = self.metadata.merging(metadata ?? [:]) { $1 }
            recorder.lines.withLock { $0.append("\(level) \(message) \(all)") }
        }
    }
}

/// Bytes that differ along the way, so a misplaced chunk changes the hash.
func pattern(_ count: Int) -> [UInt8] {
    // A 64 KiB period of a sequence that is not periodic within it, tiled: quick even in a debug build.
    let period = (0..<min(count, 65536)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    while bytes.count < count { bytes += period.prefix(count - bytes.count) }
    return bytes
}

extension HTTPError {
    var isCancelled: Bool { if case .cancelled = kind { true } else { false } }
    var isNetwork: Bool { if case .network = kind { true } else { false } }
    var isRefused: Bool { if case .refused = kind { true } else { false } }
    var timeout: HTTPTimeout? { if case .timeout(let which) = kind { which } else { nil } }
    var tooLargeLimit: Int64? { if case .bodyTooLarge(let limit) = kind { limit } else { nil } }
    var statusFailure: HTTPStatusFailure? { if case .status(let failure) = kind { failure } else { nil } }
}

/// The error a call threw, or nil when it succeeded.
func failure<T>(_ body: () async throws -> T) async -> HTTPError? {
    do {
        _ = try await body()
        return nil
    } catch let error as HTTPError {
        return error
    } catch {
        Issue.record("not an HTTPError: \(error)")
        return nil
    }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-http-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
