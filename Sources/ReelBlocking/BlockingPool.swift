import Foundation

/// A bounded set of threads for work that blocks: libpq calls, libav decoding and encoding,
/// file hashing. Such work must never hold a thread of Swift's cooperative pool, which has one
/// thread per core: a render there would stall every other task of the node.
///
/// Threads start on demand, up to `maxThreads`, and stay for the pool's life; work waits in
/// arrival order while all of them are busy. Each caller of the pool bounds its own work
/// (the database its connections, the render pool its renders), so the pool is sized as the
/// sum of those bounds and nothing waits on it for long.
public final class BlockingPool: @unchecked Sendable {
    // @unchecked: `queue`, `head`, `threads`, `idle` and `stopping` are only touched under `condition`.
    private let condition = NSCondition()
    /// Waiting work from `head` on; taken items are dropped in bulk, not one `removeFirst` each.
    private var queue: [(@Sendable () -> Void)?] = []
    private var head = 0
    private var threads = 0
    private var idle = 0
    private var stopping = false
    public let maxThreads: Int
    public let name: String

    public init(maxThreads: Int, name: String = "reeld-blocking") {
        self.maxThreads = max(1, maxThreads)
        self.name = name
    }

    deinit { shutdown() }

    /// Runs `body` on one of the pool's threads and returns its result to the caller.
    /// The work runs to its end even when the calling task is cancelled; bodies that can stop
    /// early watch a flag of their own (`RenderControl`).
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Queues `work` without waiting for it: for work that runs beside the caller's own on
    /// another thread (a render's soundtrack) and reports back by its own means.
    public func submit(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(work)
        // A new thread when the idle ones cannot take all the waiting work.
        let start = queue.count - head > idle && threads < maxThreads
        if start { threads += 1 } else { condition.signal() }
        let number = threads
        condition.unlock()
        if start {
            // Named from the thread itself, where Foundation passes the name on to the kernel
            // (for `top -H` and gdb); Linux keeps 15 bytes of it.
            let threadName = String("\(name)-\(number)".utf8.prefix(15))!
            let thread = Thread { [self] in
                Thread.current.name = threadName
                self.loop()
            }
            thread.start()
        }
    }

    /// Lets the threads end once no work is left. Work submitted later still runs (on a thread
    /// started for it), so that a late cleanup such as closing a connection is never lost.
    /// Idempotent.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            if head < queue.count, let work = queue[head] {
                queue[head] = nil
                head += 1
                if head == queue.count {
                    queue.removeAll(keepingCapacity: true)
                    head = 0
                } else if head >= 1024 && head * 2 >= queue.count {
                    queue.removeFirst(head)
                    head = 0
                }
                condition.unlock()
                work()
                condition.lock()
                continue
            }
            if stopping {
                threads -= 1
                condition.unlock()
                return
            }
            idle += 1
            condition.wait()
            idle -= 1
        }
    }
}
