/// One `KEY=value` assignment of the notify protocol.
public enum NotifyState: Sendable, Hashable {
    case ready
    case reloading
    case stopping
    case watchdog
    /// Free text for `systemctl status`; newlines become spaces, since they separate assignments.
    case status(String)
    /// `MONOTONIC_USEC`, sent with `reloading`.
    case monotonicTime(Duration)
    case extendTimeout(Duration)

    /// The line sent on the socket.
    public var assignment: String {
        switch self {
        case .ready: "READY=1"
        case .reloading: "RELOADING=1"
        case .stopping: "STOPPING=1"
        case .watchdog: "WATCHDOG=1"
        case .status(let text): "STATUS=" + String(text.map { $0.isNewline ? " " : $0 })
        case .monotonicTime(let time): "MONOTONIC_USEC=\(Self.microseconds(time))"
        case .extendTimeout(let time): "EXTEND_TIMEOUT_USEC=\(Self.microseconds(time))"
        }
    }

    private static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }
}
