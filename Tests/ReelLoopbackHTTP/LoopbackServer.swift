import Foundation
import Glibc
import Synchronization

/// A small HTTP/1.1 server on 127.0.0.1 for ReelHTTP's tests and `reeld bench providers`: a
/// thread per connection, keep-alive, requests with a Content-Length body, and a handler that
/// writes whatever it likes, including malformed or stalled responses, which a proper server
/// would never send but the client must survive.
public final class LoopbackServer: Sendable {
    /// What the handler answers with; runs on the connection's thread, one request at a time.
    public typealias Handler = @Sendable (LoopbackRequest, LoopbackConnection) throws -> Void

    public let port: Int
    private let listener: Int32
    private let handler: Handler
    private let open = Mutex<Set<Int32>>([])
    private let stopped = Atomic<Bool>(false)

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public init(handler: @escaping Handler) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LoopbackError("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4096) == 0 else {
            close(fd)
            throw LoopbackError("bind/listen: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        self.handler = handler
        let thread = Thread { [self] in acceptLoop() }
        thread.stackSize = 256 << 10
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting and closes every open connection; handlers blocked on their socket
    /// return. Idempotent.
    public func stop() {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in open.withLock({ $0 }) { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .sequentiallyConsistent) {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE { continue }
                return
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var yes: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            open.withLock { _ = $0.insert(fd) }
            let handler = self.handler
            let thread = Thread { [self] in
                let connection = LoopbackConnection(fd: fd)
                connection.serve(handler)
                open.withLock { _ = $0.remove(fd) }
                close(fd)
            }
            thread.stackSize = 256 << 10
            thread.start()
        }
    }
}

/// A request as the server read it.
public struct LoopbackRequest: Sendable {
    public var method: String
    /// Path and query, as sent.
    public var target: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// When the request's first bytes were read: the start of the server's own time.
    public var receivedAt: ContinuousClock.Instant

    public var path: String { String(target.prefix { $0 != "?" }) }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// One client connection, on its own thread.
public final class LoopbackConnection {
    let fd: Int32
    private var buffer: [UInt8] = []
    /// Set to false by a handler that closes (or breaks) the connection after its answer.
    public var keepAlive = true

    init(fd: Int32) { self.fd = fd }

    func serve(_ handler: LoopbackServer.Handler) {
        while keepAlive, let request = readRequest() {
            do { try handler(request, self) } catch { return }
        }
    }

    /// A whole response with a Content-Length.
    public func respond(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        writeHead(status: status, headers: headers + [("Content-Length", String(body.count))])
        write(body)
    }

    public func respond(status: Int, headers: [(String, String)] = [], text: String) {
        respond(status: status, headers: headers, body: Array(text.utf8))
    }

    /// The status line and headers; the body is the handler's business.
    public func writeHead(status: Int, headers: [(String, String)]) {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        write(Array(head.utf8))
    }

    /// Writes all of `bytes`; false once the peer has gone.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { write($0) }
    }

    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 {
                if errno == EINTR { continue }
                keepAlive = false
                return false
            }
            offset += sent
        }
        return true
    }

    /// Blocks until the client closes the connection (true) or `timeout` passes (false).
    /// Anything the client sends meanwhile is dropped.
    public func waitUntilClosed(timeout: Duration) -> Bool {
        keepAlive = false
        let deadline = ContinuousClock.now + timeout
        var scratch = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = max(1, Int32((deadline - ContinuousClock.now).components.seconds * 1000 + 1))
            if poll(&descriptor, 1, min(left, 100)) > 0 {
                let n = recv(fd, &scratch, scratch.count, 0)
                if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) { return true }
            }
        }
        return false
    }

    /// Answers a `CONNECT` as a proxy does and relays bytes both ways between the client and
    /// 127.0.0.1:`port` until either side closes: a tunnel, whatever the client asked for.
    public func tunnel(toPort port: Int) {
        keepAlive = false
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard upstream >= 0 else { return }
        defer { Glibc.close(upstream) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            respond(status: 502)
            return
        }
        write(Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8))
        var scratch = [UInt8](repeating: 0, count: 16384)
        var descriptors = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)]
        while poll(&descriptors, 2, 10_000) > 0 {
            for (index, (from, to)) in [(fd, upstream), (upstream, fd)].enumerated() where descriptors[index].revents != 0 {
                let n = recv(from, &scratch, scratch.count, 0)
                if n <= 0 { return }
                var offset = 0
                while offset < n {
                    let sent = scratch.withUnsafeBytes { send(to, $0.baseAddress! + offset, n - offset, Int32(MSG_NOSIGNAL)) }
                    if sent <= 0 { return }
                    offset += sent
                }
            }
        }
    }

    /// Ends the connection now (after a deliberately short body, say).
    public func close() {
        keepAlive = false
        shutdown(fd, Int32(SHUT_RDWR))
    }

    private func readRequest() -> LoopbackRequest? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        if buffer.isEmpty { guard fill() else { return nil } }
        let receivedAt = ContinuousClock.now
        while true {
            if let end = Self.find(separator, in: buffer) { headEnd = end; break }
            guard fill() else { return nil }
        }
        guard let headEnd else { return nil }
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var request = LoopbackRequest(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: [], receivedAt: receivedAt)
        let length = Int(request.header("content-length") ?? "0") ?? 0
        while buffer.count < length { guard fill() else { return nil } }
        request.body = Array(buffer[..<length])
        buffer.removeFirst(length)
        if request.header("connection")?.lowercased() == "close" { keepAlive = false }
        return request
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n > 0 {
                buffer += chunk[..<n]
                return true
            }
            if n < 0 && errno == EINTR { continue }
            return false
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 302: "Found"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

public struct LoopbackError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
