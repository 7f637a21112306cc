import CCurl
import Glibc
import Synchronization

/// What the callers' tasks and the curl thread share: requests waiting to start, the ids of
/// those running, cancellations, the stop request. Everything else about a transfer lives on
/// the curl thread alone.
///
/// Cancellation is decided under the lock, so a cancel can never slip between a request being
/// queued and being started: a queued request is resumed as cancelled at once (it was never
/// sent), a running one is handed to the thread, which removes its easy handle.
final class TransferInbox: Sendable {
    /// The multi handle, for `curl_multi_wakeup` alone, which libcurl allows from any thread.
    /// `@unchecked`: a raw pointer; the loop clears it under the lock (`detach`) and then waits
    /// for the wake-ups already decided on (`wakersInFlight`) before the handle is cleaned up,
    /// so none reaches a freed handle.
    struct Wake: @unchecked Sendable {
        let multi: UnsafeMutableRawPointer
    }

    struct Batch {
        var submissions: [Submission]
        var cancellations: [UInt64]
        /// Downloads paused on a full sink that has room again.
        var resumptions: [UInt64]
        var stop: Bool
    }

    private struct State {
        var queued: [UInt64: Submission] = [:]
        var running: Set<UInt64> = []
        var cancellations: [UInt64] = []
        var resumptions: [UInt64] = []
        var stopRequested = false
        var stopped = false
        var wake: Wake?
        /// A wake-up was sent and the thread has not taken its batch yet: one is enough.
        var wakePending = false

        /// Set by whatever gives the thread news; `withState` sends the wake-up.
        var wakeWanted = false

        mutating func wakeThread() { wakeWanted = true }
    }

    private let state = Mutex(State())
    /// Wake-ups decided under the lock and not sent yet.
    private let wakersInFlight = Atomic<Int>(0)

    /// The lock, with the wake-up (a write(2) to libcurl's socket pair) sent after it is
    /// released: sent under it, the woken curl thread found the lock still held by the
    /// sender and spun on it, at every request.
    private func withState<Result>(_ body: (inout State) -> Result) -> Result {
        let (result, wake): (Result, Wake?) = state.withLock { state in
            let result = body(&state)
            guard state.wakeWanted else { return (result, nil) }
            state.wakeWanted = false
            guard !state.wakePending, let wake = state.wake else { return (result, nil) }
            state.wakePending = true
            wakersInFlight.add(1, ordering: .relaxed)
            return (result, wake)
        }
        if let wake {
            _ = curl_multi_wakeup(wake.multi)
            wakersInFlight.subtract(1, ordering: .releasing)
        }
        return result
    }

    /// Queues a request for the thread; returns the outcome at once when it cannot be queued.
    /// Before `run()` starts the thread, requests wait here.
    func submit(_ submission: Submission, cancelled: Bool) -> TransferOutcome? {
        withState { state in
            if cancelled { return .failure(submission.error(.cancelled, certainlyNotAccepted: true)) }
            if state.stopped || state.stopRequested { return .failure(submission.error(.shutdown, certainlyNotAccepted: true)) }
            state.queued[submission.id] = submission
            state.wakeThread()
            return nil
        }
    }

    /// The task of request `id` was cancelled. Returns the submission when it had not started
    /// yet: the caller resumes it.
    func cancel(_ id: UInt64) -> Submission? {
        withState { state in
            if let waiting = state.queued.removeValue(forKey: id) { return waiting }
            if state.running.contains(id) {
                state.cancellations.append(id)
                state.wakeThread()
            }
            return nil
        }
    }

    /// A download's sink has room again (from its writer thread): the curl thread resumes it.
    func resume(_ id: UInt64) {
        withState { state in
            guard state.running.contains(id) else { return }
            state.resumptions.append(id)
            state.wakeThread()
        }
    }

    func requestStop() {
        withState { state in
            state.stopRequested = true
            state.wakeThread()
        }
    }

    // MARK: The curl thread's side

    func attach(_ wake: Wake) {
        withState { state in
            state.wake = wake
            state.wakePending = false
        }
    }

    /// Everything that arrived since the last call, oldest request first.
    func take() -> Batch {
        withState { state in
            state.wakePending = false
            // Stopping: what is still queued stays for `detach()`, which fails it.
            if state.stopRequested { return Batch(submissions: [], cancellations: [], resumptions: [], stop: true) }
            let submissions = state.queued.values.sorted { $0.id < $1.id }
            state.queued.removeAll(keepingCapacity: true)
            for submission in submissions { state.running.insert(submission.id) }
            let cancellations = state.cancellations
            state.cancellations.removeAll(keepingCapacity: true)
            let resumptions = state.resumptions
            state.resumptions.removeAll(keepingCapacity: true)
            return Batch(submissions: submissions, cancellations: cancellations, resumptions: resumptions, stop: state.stopRequested)
        }
    }

    func finished(_ ids: [UInt64]) {
        guard !ids.isEmpty else { return }
        withState { state in
            for id in ids { state.running.remove(id) }
        }
    }

    /// The thread is ending: no more wake-ups, no more requests; returns those still queued.
    /// Returns once no wake-up is on its way, so the multi handle may be cleaned up.
    func detach() -> [Submission] {
        let left = withState { state in
            state.stopped = true
            state.wake = nil
            state.running.removeAll()
            let left = Array(state.queued.values)
            state.queued.removeAll()
            return left
        }
        while wakersInFlight.load(ordering: .acquiring) > 0 { sched_yield() }
        return left
    }
}
