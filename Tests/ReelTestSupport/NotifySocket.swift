import Foundation
import Glibc

/// A bound `AF_UNIX` datagram socket in a fresh temporary directory: what systemd's notify socket
/// is. Pass `path` to a child as `NOTIFY_SOCKET`, or to an in-process `SystemdNotifier`; never
/// set it in this process's environment, which every child a test starts would inherit.
public final class NotifySocket: @unchecked Sendable {
    // @unchecked: the descriptor and paths never change after init; recv on one socket from
    // several threads is safe, and each test uses its socket from one task.
    public let path: String
    let directory: String
    let fd: Int32

    public init() throws {
        var template = Array("/tmp/reeld-notify-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno)!) }
        let directory = String(cString: dir)
        let path = directory + "/notify.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw POSIXError(.init(rawValue: errno)!) }
        self.directory = directory
        self.path = path
        self.fd = fd
    }

    /// The next datagram, or nil when none arrives within `timeout`.
    public func receive(timeout: Duration = .seconds(2)) -> String? {
        let micros = timeout.components.seconds * 1_000_000 + timeout.components.attoseconds / 1_000_000_000_000
        var value = timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n < 0 ? nil : String(decoding: buffer.prefix(n), as: UTF8.self)
    }

    deinit {
        close(fd)
        unlink(path)
        rmdir(directory)
    }
}
