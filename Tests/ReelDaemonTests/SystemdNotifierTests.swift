import Foundation
import Glibc
import ReelTestSupport
import Testing

@testable import ReelSystemd

/// Talks to a real `AF_UNIX` datagram socket, as systemd's notify socket is.
/// Serialized because `NOTIFY_SOCKET` and `WATCHDOG_*` are process-wide environment.
@Suite(.serialized) struct SystemdNotifierTests {
    @Test func sendsReadyWithStatusAsOneDatagram() throws {
        let socket = try NotifySocket(exportToEnvironment: true)
        let notifier = SystemdNotifier()
        #expect(notifier.isEnabled)
        try notifier.ready(status: "0 running, 3 queued")
        #expect(socket.receive() == "READY=1\nSTATUS=0 running, 3 queued")
    }

    @Test func sendsEachLifecycleState() throws {
        let socket = try NotifySocket(exportToEnvironment: true)
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
        let socket = try NotifySocket(exportToEnvironment: true)
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
