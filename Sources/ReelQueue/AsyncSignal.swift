import Synchronization

/// A wake-up flag tasks wait on: set by NOTIFYs, freed worker slots, completions and shutdown.
/// A signal wakes every task waiting at that moment; a signal while nobody waits is remembered
/// (once), so a signal is never lost between a check and the wait that follows it.
///
/// Each wait has its own id. Cancelling a wait (its timeout fired, or the task was cancelled)
/// resumes only that wait's continuation and never touches `pending`: clearing `pending` after
/// a timeout could erase a signal, and a cancelled waiter left registered would have nobody to
/// resume it.
final class AsyncSignal: Sendable {
    private struct State {
        var pending = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waits cancelled before they registered: they must not register at all.
        var cancelledBeforeWaiting: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    func signal() {
        let waiters = state.withLock { state -> Dictionary<UInt64, CheckedContinuation<Void, Never>>.Values in
            if state.waiters.isEmpty { state.pending = true }
            defer { state.waiters.removeAll() }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
    }

    /// How many waits are registered now: lets a test cancel waiters it knows are waiting.
    var waiterCount: Int { state.withLock { $0.waiters.count } }

    /// Returns when signalled or when the task is cancelled.
    func wait() async {
        if consumePending() { return }
        await waitForSignal(id: state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        })
    }

    /// Returns when signalled, after `timeout` on `clock`, or when the task is cancelled.
    func wait(timeout: Duration, clock: any QueueClock = DatabaseClock()) async {
        if consumePending() { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait() }
            group.addTask { try? await clock.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func consumePending() -> Bool {
        state.withLock { state in
            defer { state.pending = false }
            return state.pending
        }
    }

    private func waitForSignal(id: UInt64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    if state.cancelledBeforeWaiting.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelledBeforeWaiting.insert(id)
                return nil
            }
            waiter?.resume()
        }
        // A cancel that raced a signal may have left this id behind.
        state.withLock { _ = $0.cancelledBeforeWaiting.remove(id) }
    }
}
