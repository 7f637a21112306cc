import Foundation
import Synchronization
import Testing

@testable import ReelStudio

@Suite struct RenderPoolTests {
    final class Counter: Sendable {
        let state = Mutex((now: 0, most: 0, order: [Int]()))
    }

    @Test func runsAtMostItsWorkersAtOnceWithTheirThreadBudget() async throws {
        let pool = RenderPool(workers: 2, threadsPerRender: 3)
        let counter = Counter()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<6 {
                group.addTask {
                    try await pool.withSlot { threads in
                        counter.state.withLock { s in
                            s.now += 1
                            s.most = max(s.most, s.now)
                            s.order.append(n)
                        }
                        try await Task.sleep(for: .milliseconds(30))
                        counter.state.withLock { $0.now -= 1 }
                        return threads
                    }
                }
            }
            for try await threads in group { #expect(threads == 3) }
        }
        let (most, count) = counter.state.withLock { ($0.most, $0.order.count) }
        #expect(most == 2)
        #expect(count == 6)
        #expect(pool.running == 0)
    }

    @Test func aCancelledWaiterLeavesTheLineAndTheSlotGoesToTheNext() async throws {
        let pool = RenderPool(workers: 1, threadsPerRender: 1)
        let release = AsyncStream<Void>.makeStream()
        let holder = Task { try await pool.withSlot { _ in for await _ in release.stream { break } } }
        try await Task.sleep(for: .milliseconds(20))
        let cancelled = Task { try await pool.withSlot { _ in "ran" } }
        let next = Task { try await pool.withSlot { _ in "next" } }
        try await Task.sleep(for: .milliseconds(20))
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        release.continuation.yield()
        try await holder.value
        #expect(try await next.value == "next")
        #expect(pool.running == 0)
    }
}
