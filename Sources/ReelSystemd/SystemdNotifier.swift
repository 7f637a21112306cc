import Glibc

/// Tells the service manager how the daemon is doing (the `sd_notify(3)` protocol).
///
/// The socket and the watchdog interval are read from the environment once, when the notifier
/// is made (`init()`), or passed in (`init(socketPath:watchdogInterval:)`), so that a test can
/// talk to a socket of its own without setting `NOTIFY_SOCKET` for the whole process, where
/// every child it starts would inherit it. Without a socket every call is a no-op, so the daemon
/// runs the same way from a terminal, in tests and under systemd.
///
/// The datagram is sent here rather than by libsystemd's `sd_notify`, which only ever reads
/// `NOTIFY_SOCKET` from the environment. The protocol is one datagram of `KEY=value` lines to
/// an `AF_UNIX` socket: a path, or an abstract name written with a leading `@`.
public struct SystemdNotifier: Sendable {
    /// Where the datagrams go: `NOTIFY_SOCKET`; nil when no service manager listens.
    public let socketPath: String?
    /// How often systemd expects `WATCHDOG=1` (`WatchdogSec=`), or `nil` when the watchdog is off
    /// or meant for another process. Ping at half this interval, as `sd_watchdog_enabled(3)` advises.
    public let watchdogInterval: Duration?

    /// A notifier for the socket and watchdog systemd gave this process (`NOTIFY_SOCKET`,
    /// `WATCHDOG_USEC`, `WATCHDOG_PID`).
    public init() {
        var environment: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        self.init(environment: environment)
    }

    /// A notifier as the given environment describes it.
    public init(environment: [String: String]) {
        let socket = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        var watchdog: Duration?
        if let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            // As sd_watchdog_enabled: WATCHDOG_PID, when set, names the process the watchdog is for.
            if environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true {
                watchdog = .microseconds(Int64(clamping: usec))
            }
        }
        self.init(socketPath: socket, watchdogInterval: watchdog)
    }

    /// A notifier that sends to `socketPath` (nil: nowhere).
    public init(socketPath: String?, watchdogInterval: Duration? = nil) {
        self.socketPath = socketPath
        self.watchdogInterval = watchdogInterval
    }

    /// Whether a service manager is listening (`NOTIFY_SOCKET` is set).
    public var isEnabled: Bool { socketPath != nil }

    /// Sends the states as one datagram, so systemd sees them together (RELOADING with its MONOTONIC_USEC).
    public func notify(_ states: [NotifyState]) throws(SystemdError) {
        guard !states.isEmpty, let socketPath else { return }
        let message = states.map(\.assignment).joined(separator: "\n")
        let result = Self.send(message, to: socketPath)
        if result != 0 {
            throw .notifyFailed(message: message, errno: result)
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

    /// Keep-alive ping; send it only while the loops that do the work make progress, not from a timer alone.
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

    /// Sends one datagram; 0, or the errno of what failed.
    private static func send(_ message: String, to path: String) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(path.utf8)
        // "@name" is an abstract socket: a leading NUL, and no NUL at the end.
        let abstract = name.first == UInt8(ascii: "@")
        if abstract { name[0] = 0 }
        guard abstract || name.first == UInt8(ascii: "/") else { return EAFNOSUPPORT }
        guard name.count < MemoryLayout.size(ofValue: address.sun_path) else { return ENAMETOOLONG }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in name.enumerated() { raw[i] = byte }
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count + (abstract ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sockaddrPointer, length) }
            }
        }
        return sent < 0 ? errno : 0
    }
}
