import Glibc

/// A loopback port that refuses every connection and stays refused while this lives: a socket
/// bound to it without `listen`, so the kernel answers a connect with a reset and no other test
/// can take the port meanwhile. A server stopped to free its port would leave it to the next
/// test that binds one, which may be listening by the time a "refused" connect is made.
public final class RefusingPort: Sendable {
    public let port: Int
    private let socket: Int32

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public init() throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LoopbackError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw LoopbackError("bind: \(String(cString: strerror(errno)))")
        }
        socket = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(socket) }
}
