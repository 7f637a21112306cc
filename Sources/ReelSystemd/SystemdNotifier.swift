import CSystemd
import Glibc

/// Tells the service manager how the daemon is doing (`sd_notify(3)`).
///
/// Every call is a no-op when `NOTIFY_SOCKET` is unset, so the daemon runs the same way
/// from a terminal, in tests and under systemd. The environment is read on each call
/// (libsystemd does so), which is why the notifier holds no state and is a plain `Sendable` value.
public struct SystemdNotifier: Sendable {
    /// Creates a notifier for the socket named by `NOTIFY_SOCKET`, if any.
    public init() {}

    /// Whether a service manager is listening (`NOTIFY_SOCKET` is set).
    public var isEnabled: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// How often systemd expects `WATCHDOG=1` (`WatchdogSec=`), or `nil` when the watchdog is off
    /// or meant for another process. Ping at half this interval, as `sd_watchdog_enabled(3)` advises.
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        // 0: keep WATCHDOG_USEC in the environment; the daemon asks again after a reload.
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(clamping: usec))
    }

    /// Sends the states as one datagram, so systemd sees them together (RELOADING with its MONOTONIC_USEC).
    public func notify(_ states: [NotifyState]) throws(SystemdError) {
        guard !states.isEmpty else { return }
        let message = states.map(\.assignment).joined(separator: "\n")
        let result = sd_notify(0, message)
        if result < 0 {
            throw .notifyFailed(message: message, errno: -result)
        }
    }

    /// Startup finished: migrations checked, intake listening.
    public func ready(status: String? = nil) throws(SystemdError) {
        try notify([.ready] + (status.map { [.status($0)] } ?? []))
    }

    /// A one-line human status for `systemctl status` (live counts).
    public func status(_ text: String) throws(SystemdError) {
        try notify([.status(text)])
    }

    /// Keep-alive ping; send it from the loops that do the work, not from a timer of its own.
    public func watchdog() throws(SystemdError) {
        try notify([.watchdog])
    }

    /// A reload (SIGHUP) has started; send `ready()` when it is done.
    ///
    /// Carries `MONOTONIC_USEC`, which systemd ≥ 253 requires for `Type=notify-reload`
    /// and older versions ignore.
    public func reloading(status: String? = nil) throws(SystemdError) {
        try notify([.reloading, .monotonicTime(Self.monotonicNow())] + (status.map { [.status($0)] } ?? []))
    }

    /// Shutdown has started (SIGTERM): no new claims, running jobs draining.
    public func stopping(status: String? = nil) throws(SystemdError) {
        try notify([.stopping] + (status.map { [.status($0)] } ?? []))
    }

    /// Asks for more time before systemd gives up on the current start, reload or stop
    /// (`EXTEND_TIMEOUT_USEC`); send it again before it runs out.
    public func extendTimeout(by duration: Duration) throws(SystemdError) {
        try notify([.extendTimeout(duration)])
    }

    /// `CLOCK_MONOTONIC` now, as systemd compares it (not `ContinuousClock`, which is `CLOCK_BOOTTIME` on Linux).
    static func monotonicNow() -> Duration {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return .seconds(ts.tv_sec) + .nanoseconds(ts.tv_nsec)
    }
}
