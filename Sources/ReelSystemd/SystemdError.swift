import Glibc

/// A failure talking to systemd. None is fatal: the daemon logs it and keeps working.
public enum SystemdError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `sd_notify` could not send to `NOTIFY_SOCKET` (socket gone, permission, bad address).
    case notifyFailed(message: String, errno: Int32)

    public var description: String {
        switch self {
        case .notifyFailed(let message, let errno):
            let first = message.split(separator: "\n").first.map(String.init) ?? message
            return "could not notify systemd (\(first)): \(String(cString: strerror(errno))); the daemon continues, "
                + "but systemd may consider it not ready or hung"
        }
    }
}
