import Foundation
import Glibc
import Testing

@testable import ReelSystemd

/// Talks to a real `AF_UNIX` datagram socket, as systemd's notify socket is.
/// Serialized because `NOTIFY_SOCKET` and `WATCHDOG_*` are process-wide environment.
@Suite(.serialized) struct SystemdNotifierTests {
    /// A bound notify socket in a fresh temporary directory, with `NOTIFY_SOCKET` pointing at it.
    final class NotifySocket {
        let directory: String
        let path: String
        let fd: Int32

        init() throws {
            var template = Array("/tmp/reeld-notify-XXXXXX".utf8CString)
            guard let dir = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno)!) }
            directory = String(cString: dir)
            path = directory + "/notify.sock"
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
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
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setenv("NOTIFY_SOCKET", path, 1)
        }

        /// The next datagram, or nil after the 2 s receive timeout.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n < 0 ? nil : String(decoding: buffer.prefix(n), as: UTF8.self)
        }

        deinit {
            unsetenv("NOTIFY_SOCKET")
            close(fd)
            unlink(path)
            rmdir(directory)
        }
    }

    @Test func sendsReadyWithStatusAsOneDatagram() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier()
        #expect(notifier.isEnabled)
        try notifier.ready(status: "0 running, 3 queued")
        #expect(socket.receive() == "READY=1\nSTATUS=0 running, 3 queued")
    }

    @Test func sendsEachLifecycleState() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier()
        try notifier.watchdog()
        #expect(socket.receive() == "WATCHDOG=1")
        try notifier.stopping(status: "draining\n2 jobs")
        #expect(socket.receive() == "STOPPING=1\nSTATUS=draining 2 jobs")
        try notifier.extendTimeout(by: .seconds(20))
        #expect(socket.receive() == "EXTEND_TIMEOUT_USEC=20000000")
        try notifier.status("idle")
        #expect(socket.receive() == "STATUS=idle")
    }

    @Test func reloadingCarriesTheMonotonicClock() throws {
        let socket = try NotifySocket()
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let before = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
        try SystemdNotifier().reloading()
        let lines = try #require(socket.receive()).split(separator: "\n")
        #expect(lines.first == "RELOADING=1")
        let usec = try #require(lines.dropFirst().first.flatMap { Int64($0.dropFirst("MONOTONIC_USEC=".count)) })
        #expect(lines[1].hasPrefix("MONOTONIC_USEC="))
        #expect(usec >= before && usec < before + 10_000_000)
    }

    @Test func withoutNotifySocketEveryCallIsANoOp() throws {
        unsetenv("NOTIFY_SOCKET")
        let notifier = SystemdNotifier()
        #expect(!notifier.isEnabled)
        try notifier.ready()
        try notifier.watchdog()
        try notifier.stopping()
    }

    @Test func unreachableNotifySocketThrows() {
        setenv("NOTIFY_SOCKET", "/nonexistent/reeld/notify.sock", 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        #expect(throws: SystemdError.self) { try SystemdNotifier().ready() }
    }

    @Test func watchdogIntervalComesFromTheEnvironment() {
        setenv("WATCHDOG_USEC", "30000000", 1)
        setenv("WATCHDOG_PID", "\(getpid())", 1)
        #expect(SystemdNotifier().watchdogInterval == .seconds(30))
        setenv("WATCHDOG_PID", "1", 1)  // meant for another process
        #expect(SystemdNotifier().watchdogInterval == nil)
        unsetenv("WATCHDOG_USEC")
        unsetenv("WATCHDOG_PID")
        #expect(SystemdNotifier().watchdogInterval == nil)
    }
}
