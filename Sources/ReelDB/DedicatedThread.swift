import Foundation

/// A thread that runs submitted closures one at a time, in order.
///
/// libpq is blocking. Running it on Swift's cooperative pool (two threads on this machine)
/// would stall every other task while a query waits on the network, so each connection
/// owns one of these and all of its calls happen there.
final class DedicatedThread: @unchecked Sendable {
    // `queue` and `stopping` are guarded by `condition`; nothing else is mutable.
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var stopping = false

    init(name: String) {
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.start()
    }

    func submit(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(work)
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` on this thread and returns its result to the caller.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Ends the thread after the work already submitted.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                condition.unlock()
                return
            }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            condition.unlock()
            for work in batch { work() }
        }
    }
}
