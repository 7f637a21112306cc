import Foundation

/// The database's clock.
public struct DatabaseClock: QueueClock {
    public init() {}
    public func now() -> Date? { nil }
}
