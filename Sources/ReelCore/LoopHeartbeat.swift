import Synchronization

/// When a long-running loop last came round: the claim loop and the spool each beat on every
/// pass, idle waits included (they wake at least every `every`), and the systemd watchdog is
/// pinged only while each one's last beat is recent. A loop stuck in a call that never returns
/// stops beating, the pings stop, and systemd restarts the node.
public final class LoopHeartbeat: Sendable {
    /// The longest the loop waits between two passes, when nothing happens.
    public let every: Duration
    private let last: Mutex<ContinuousClock.Instant>

    public init(every: Duration) {
        self.every = every
        last = Mutex(.now)
    }

    /// The loop came round.
    public func beat() {
        let now = ContinuousClock.now
        last.withLock { $0 = now }
    }

    /// How long ago the loop last came round.
    public var age: Duration { .now - last.withLock { $0 } }
}
