import Foundation
import Synchronization

/// A clock that moves only when told to. Its waits take real time: a worker that retries on it
/// behaves as in production.
public final class ManualClock: QueueClock {
    private let current: Mutex<Date>

    public init(_ start: Date = Date()) { current = Mutex(start) }

    public func now() -> Date? { current.withLock { $0 } }

    public func advance(by duration: Duration) {
        current.withLock { $0 = $0.addingTimeInterval(duration.seconds) }
    }
}
