import ReelLoopbackHTTP

/// A fake whose knobs and records are the fields of its `State`: `fake.holdCreates = true` or
/// `fake.createCount` reads or writes that field under the lock its handlers share, so a test
/// may change a knob at any time, also while requests are served.
@dynamicMemberLookup
public protocol FakeKnobs: AnyObject {
    associatedtype State: Sendable
    var state: LoopbackState<State> { get }
}

extension FakeKnobs {
    public subscript<T: Sendable>(dynamicMember field: WritableKeyPath<State, T>) -> T {
        get { state.value[keyPath: field] }
        set { state.withLock { $0[keyPath: field] = newValue } }
    }
}
