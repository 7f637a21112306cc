/// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
/// Jitter"): the delay before attempt n+1 is uniform in [0, min(cap, base·2^(n−1))].
/// Full jitter spreads a thundering herd of retries best; a provider's Retry-After wins over it.
public struct Backoff: Sendable, Hashable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .seconds(2), cap: Duration = .seconds(600)) {
        self.base = base
        self.cap = cap
    }

    /// The ceiling for the delay after `attempt` failed attempts (1-based).
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let seconds = min(base.seconds * Double(1 << UInt64(exponent)), cap.seconds)
        return .milliseconds(Int64(seconds * 1000))
    }

    /// The delay to wait, with `random` drawing a fraction in [0, 1).
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil, random: () -> Double) -> Duration {
        if let retryAfter { return min(retryAfter, cap) }
        let ceiling = ceiling(afterAttempt: attempt)
        return .milliseconds(Int64(ceiling.seconds * 1000 * random()))
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
