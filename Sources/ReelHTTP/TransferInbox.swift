import CCurl
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
    /// `@unchecked`: a raw pointer; the loop clears it under the lock before the handle is
    /// cleaned up, and wake-ups are only sent under the lock, so none reaches a freed handle.
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

        mutating func wakeThread() {
            guard !wakePending, let wake else { return }
            wakePending = true
            _ = curl_multi_wakeup(wake.multi)
        }
    }

    private let state = Mutex(State())

    /// Queues a request for the thread; returns the outcome at once when it cannot be queued.
    /// Before `run()` starts the thread, requests wait here.
    func submit(_ submission: Submission, cancelled: Bool) -> TransferOutcome? {
        state.withLock { state in
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
        state.withLock { state in
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
        state.withLock { state in
            guard state.running.contains(id) else { return }
            state.resumptions.append(id)
            state.wakeThread()
        }
    }

    func requestStop() {
        state.withLock { state in
            state.stopRequested = true
            state.wakeThread()
        }
    }

    // MARK: The curl thread's side

    func attach(_ wake: Wake) {
        state.withLock { state in
            state.wake = wake
            state.wakePending = false
        }
    }

    /// Everything that arrived since the last call, oldest request first.
    func take() -> Batch {
        state.withLock { state in
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
        state.withLock { state in
            for id in ids { state.running.remove(id) }
        }
    }

    /// The thread is ending: no more wake-ups, no more requests; returns those still queued.
    func detach() -> [Submission] {
        state.withLock { state in
            state.stopped = true
            state.wake = nil
            state.running.removeAll()
            let left = Array(state.queued.values)
            state.queued.removeAll()
            return left
        }
    }
}
