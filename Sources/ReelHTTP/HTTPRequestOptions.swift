/// Limits of one exchange. The client's configuration holds the defaults; a request may carry its own.
public struct HTTPRequestOptions: Sendable, Hashable {
    /// Whether a redirect is followed. Only GET and HEAD follow; a redirect never changes the
    /// scheme, never leaves https (loopback http stays on http) and secret headers are not sent
    /// on to another host.
    public enum Redirects: Sendable, Hashable {
        /// A 3xx is returned as an HTTP status error.
        case refuse
        case follow(max: Int)
    }

    /// Aborts a transfer that moves fewer than `bytesPerSecond` for `window` (whole seconds:
    /// libcurl's granularity), so a stalled connection does not wait out the total timeout.
    public struct LowSpeed: Sendable, Hashable {
        public var bytesPerSecond: Int
        public var window: Duration

        public init(bytesPerSecond: Int, window: Duration) {
            self.bytesPerSecond = bytesPerSecond
            self.window = window
        }
    }

    public var connectTimeout: Duration
    /// The whole exchange, from start to the last byte, redirects included.
    public var totalTimeout: Duration
    public var lowSpeed: LowSpeed?
    /// The largest response body held in memory. Downloads to a file have their own cap.
    public var maxBodyBytes: Int64
    public var redirects: Redirects

    public init(
        connectTimeout: Duration = .seconds(10), totalTimeout: Duration = .seconds(120),
        lowSpeed: LowSpeed? = LowSpeed(bytesPerSecond: 1, window: .seconds(60)),
        maxBodyBytes: Int64 = 64 << 20, redirects: Redirects = .refuse
    ) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.lowSpeed = lowSpeed
        self.maxBodyBytes = maxBodyBytes
        self.redirects = redirects
    }
}
