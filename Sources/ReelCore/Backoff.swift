/// Exponential backoff, capped: the ceiling for the delay before attempt n+1 is
/// min(cap, base·2^(n−1)). With full jitter (AWS Architecture Blog, "Exponential Backoff And
/// Jitter") the delay is uniform in [0, ceiling]: that spreads a thundering herd of retries best,
/// and a provider's Retry-After wins over it. Without jitter the delay is the ceiling, for a
/// node's own waits on its database, where no herd of other clients shares the schedule.
public struct Backoff: Sendable, Hashable {
    /// How a delay is drawn below its ceiling.
    public enum Jitter: Sendable, Hashable {
        /// Uniform in [0, ceiling].
        case full
        /// The ceiling itself.
        case none
    }

    public var base: Duration
    public var cap: Duration
    public var jitter: Jitter

    public init(base: Duration = .seconds(2), cap: Duration = .seconds(600), jitter: Jitter = .full) {
        self.base = base
        self.cap = cap
        self.jitter = jitter
    }

    /// The ceiling for the delay after `attempt` failed attempts (1-based).
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let seconds = min(base.seconds * Double(1 << UInt64(exponent)), cap.seconds)
        return .milliseconds(Int64(seconds * 1000))
    }

    /// The delay to wait, with `random` drawing a fraction in [0, 1) (not called without jitter).
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil, random: () -> Double = { Double.random(in: 0..<1) }) -> Duration {
        if let retryAfter { return min(retryAfter, cap) }
        let ceiling = ceiling(afterAttempt: attempt)
        switch jitter {
        case .full: return .milliseconds(Int64(ceiling.seconds * 1000 * random()))
        case .none: return ceiling
        }
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
