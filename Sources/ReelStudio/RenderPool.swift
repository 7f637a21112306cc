import Synchronization

/// The node's render pool: at most `workers` renders at once, each given `threadsPerRender`
/// libav threads, so `workers × threadsPerRender` bounds what renders take of the machine no
/// matter how many render jobs the queue hands this node. Waiters are served in arrival order;
/// a waiter whose task is cancelled leaves the line at once.
final class RenderPool: Sendable {
    let workers: Int
    let threadsPerRender: Int
    private let state = Mutex(State())

    private struct State {
        var running = 0
        var nextTicket = 0
        var waiting: [(ticket: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    init(workers: Int, threadsPerRender: Int) {
        self.workers = max(1, workers)
        self.threadsPerRender = max(1, threadsPerRender)
    }

    /// Renders running now.
    var running: Int { state.withLock { $0.running } }
    /// Renders waiting for a slot now.
    var waiting: Int { state.withLock { $0.waiting.count } }

    /// Runs `body` in a render slot, waiting for one if all are taken; `body` gets the thread budget.
    func withSlot<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body(threadsPerRender)
    }

    private func acquire() async throws {
        let ticket = state.withLock { state -> Int? in
            if state.running < workers && state.waiting.isEmpty {
                state.running += 1
                return nil
            }
            state.nextTicket += 1
            return state.nextTicket
        }
        guard let ticket else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    state.waiting.append((ticket, continuation))
                    return false
                }
                if resumeNow { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiting.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                return state.waiting.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func release() {
        // Hand the slot straight to the next waiter, so a newcomer cannot overtake the line.
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiting.isEmpty {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst().continuation
        }
        next?.resume()
    }
}
