import Foundation
import ReelTestSupport
import Synchronization
import Testing

@testable import ReelStudio

/// The pool is checked by handshakes, not by timing: each render holds its slot until the test
/// lets it go, so who is inside and who waits is known at every step.
@Suite struct RenderPoolTests {
    final class Counter: Sendable {
        let state = Mutex((now: 0, most: 0))
        func enter() { state.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
        var most: Int { state.withLock { $0.most } }
    }

    /// Waits (without a fixed sleep) until `pool` has `count` renders in line.
    static func waitForLine(_ pool: RenderPool, _ count: Int) async throws {
        try await Poll.until("\(count) renders waiting", timeout: .seconds(30), interval: .milliseconds(1)) { pool.waiting == count }
    }

    @Test func runsAtMostItsWorkersAtOnceWithTheirThreadBudget() async throws {
        let pool = RenderPool(workers: 2, threadsPerRender: 3)
        let counter = Counter()
        let entered = AsyncStream<Int>.makeStream()
        let gates = (0..<6).map { _ in AsyncStream<Void>.makeStream() }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<6 {
                group.addTask {
                    try await pool.withSlot { threads in
                        counter.enter()
                        entered.continuation.yield(n)
                        for await _ in gates[n].stream {}
                        counter.leave()
                        return threads
                    }
                }
            }
            var inside = entered.stream.makeAsyncIterator()
            var holding = [await inside.next()!, await inside.next()!]
            // Two renders hold the slots and the other four wait in line.
            try await Self.waitForLine(pool, 4)
            #expect(pool.running == 2)
            #expect(counter.most == 2)
            // Each render that finishes lets exactly one waiter in.
            for step in 0..<6 {
                gates[holding.removeFirst()].continuation.finish()
                if step < 4 {
                    holding.append(await inside.next()!)
                    try await Self.waitForLine(pool, 3 - step)
                    #expect(pool.running == 2)
                }
            }
            for try await threads in group { #expect(threads == 3) }
        }
        #expect(counter.most == 2)
        #expect(pool.running == 0 && pool.waiting == 0)
    }

    @Test func aCancelledWaiterLeavesTheLineAndTheSlotGoesToTheNext() async throws {
        let pool = RenderPool(workers: 1, threadsPerRender: 1)
        let release = AsyncStream<Void>.makeStream()
        let holding = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await pool.withSlot { _ in
                holding.continuation.yield()
                for await _ in release.stream {}
            }
        }
        var held = holding.stream.makeAsyncIterator()
        _ = await held.next()
        let cancelled = Task { try await pool.withSlot { _ in "ran" } }
        try await Self.waitForLine(pool, 1)
        let next = Task { try await pool.withSlot { _ in "next" } }
        try await Self.waitForLine(pool, 2)
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(pool.waiting == 1)
        release.continuation.finish()
        try await holder.value
        #expect(try await next.value == "next")
        #expect(pool.running == 0 && pool.waiting == 0)
    }
}
