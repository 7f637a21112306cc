import Foundation
import Glibc
import ReelTestSupport
import Testing

@testable import ReelSystemd

/// Talks to a real `AF_UNIX` datagram socket, as systemd's notify socket is. Each test passes
/// its socket and environment to the notifier: nothing is set in this process's environment,
/// which the reeld processes other suites start at the same time would inherit.
@Suite struct SystemdNotifierTests {
    @Test func sendsReadyWithStatusAsOneDatagram() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(socketPath: socket.path)
        #expect(notifier.isEnabled)
        try notifier.ready(status: "0 running, 3 queued")
        #expect(socket.receive() == "READY=1\nSTATUS=0 running, 3 queued")
    }

    @Test func sendsEachLifecycleState() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
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
        try SystemdNotifier(socketPath: socket.path).reloading()
        let lines = try #require(socket.receive()).split(separator: "\n")
        #expect(lines.first == "RELOADING=1")
        let usec = try #require(lines.dropFirst().first.flatMap { Int64($0.dropFirst("MONOTONIC_USEC=".count)) })
        #expect(lines[1].hasPrefix("MONOTONIC_USEC="))
        #expect(usec >= before && usec < before + 10_000_000)
    }

    @Test func withoutNotifySocketEveryCallIsANoOp() throws {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        try notifier.ready()
        try notifier.watchdog()
        try notifier.stopping()
    }

    @Test func unreachableNotifySocketThrows() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/reeld/notify.sock"])
        #expect(throws: SystemdError.self) { try notifier.ready() }
    }

    @Test func watchdogIntervalComesFromTheEnvironment() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"]).watchdogInterval == .seconds(30))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogInterval == .seconds(30))
        // Meant for another process.
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: [:]).watchdogInterval == nil)
    }
}
