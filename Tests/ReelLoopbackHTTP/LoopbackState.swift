import Synchronization

/// State that server handlers (on their connection threads) and a test or benchmark share:
/// a `Mutex` in a class, since a `Mutex` itself cannot be captured by a handler.
public final class LoopbackState<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    public func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }

    public var value: Value { mutex.withLock { $0 } }
}
