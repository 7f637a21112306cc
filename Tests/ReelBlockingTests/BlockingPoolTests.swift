import Foundation
import ReelBlocking
import Synchronization
import Testing

@Suite struct BlockingPoolTests {
    /// A gate bodies wait at until the test opens it: the pool's threads are really held.
    final class Gate: Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        func wait() { semaphore.wait() }
        func open(_ count: Int) { for _ in 0..<count { semaphore.signal() } }
    }

    /// What the bodies saw: how many ran at once, at most, and the order they started in.
    final class Record: Sendable {
        let running = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        let started = Mutex<[Int]>([])
    }

    @Test func runsAtMostItsThreadsAtOnce() async throws {
        let pool = BlockingPool(maxThreads: 3)
        let gate = Gate()
        let record = Record()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<9 {
                group.addTask {
                    try await pool.run {
                        record.started.withLock { $0.append(n) }
                        let now = record.running.add(1, ordering: .sequentiallyConsistent).newValue
                        record.most.max(now, ordering: .sequentiallyConsistent)
                        gate.wait()
                        record.running.subtract(1, ordering: .sequentiallyConsistent)
                    }
                }
                // Submitted one after another, so that arrival order is known.
                while record.started.withLock({ $0.count }) < min(n + 1, 3) { try await Task.sleep(for: .milliseconds(1)) }
            }
            // Three bodies hold the three threads; the other six wait, none started.
            #expect(record.started.withLock { $0.count } == 3)
            gate.open(9)
            try await group.waitForAll()
        }
        #expect(record.most.load(ordering: .sequentiallyConsistent) == 3)
        #expect(record.started.withLock { Set($0) } == Set(0..<9))
    }

    @Test func waitingWorkRunsInArrivalOrder() async throws {
        let pool = BlockingPool(maxThreads: 1)
        let gate = Gate()
        let record = Record()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run { gate.wait() } }
            for n in 0..<6 {
                group.addTask { try await pool.run { record.started.withLock { $0.append(n) } } }
                // Each one queued before the next is submitted.
                try await Task.sleep(for: .milliseconds(20))
            }
            gate.open(1)
            try await group.waitForAll()
        }
        #expect(record.started.withLock { $0 } == Array(0..<6))
    }

    @Test func returnsTheBodysValueAndRethrowsItsError() async throws {
        struct Failure: Error, Equatable {}
        let pool = BlockingPool(maxThreads: 1)
        #expect(try await pool.run { 6 * 7 } == 42)
        await #expect(throws: Failure.self) { try await pool.run { throw Failure() } }
    }

    @Test(.timeLimit(.minutes(1)))
    func blockedWorkLeavesTheCooperativePoolFree() async throws {
        // More blocked bodies than the cooperative pool has threads: if they ran there, the
        // child task below could never run and the gate would never open.
        let blocked = ProcessInfo.processInfo.activeProcessorCount + 2
        let pool = BlockingPool(maxThreads: blocked)
        let gate = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<blocked {
                group.addTask { try await pool.run { gate.wait() } }
            }
            async let sum = (1...100).reduce(0, +)
            #expect(await sum == 5050)
            gate.open(blocked)
            try await group.waitForAll()
        }
    }

    @Test func workSubmittedAfterShutdownStillRuns() async throws {
        let pool = BlockingPool(maxThreads: 2)
        #expect(try await pool.run { 1 } == 1)
        pool.shutdown()
        // Give the idle thread time to end, so that the late work needs a thread started for it.
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await pool.run { 2 } == 2)
    }
}
