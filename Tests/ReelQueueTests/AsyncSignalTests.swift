import ReelTestSupport
import Synchronization
import Testing

@testable import ReelQueue

/// The worker's wake-up flag: never loses a signal, never leaves a waiter stranded.
@Suite struct AsyncSignalTests {
    @Test func signalBeforeWaitIsRemembered() async {
        let signal = AsyncSignal()
        signal.signal()
        let started = ContinuousClock.now
        await signal.wait(timeout: .seconds(30))
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func waitWithoutSignalReturnsAtItsTimeout() async {
        let signal = AsyncSignal()
        let started = ContinuousClock.now
        await signal.wait(timeout: .milliseconds(50))
        #expect(ContinuousClock.now - started >= .milliseconds(50))
    }

    /// Both kinds of wait, registered, then cancelled: both end. A broken cancel would hang the
    /// waits for good (the timed one for an hour), so they run in a task the test does not await:
    /// the test waits for them with a deadline and fails at it instead of hanging the suite.
    @Test func cancellingTheWaitingTaskEndsTheWait() async throws {
        let signal = AsyncSignal()
        let seen = Seen()
        // Unstructured on purpose: a structured parent would wait for a hung child forever.
        let waits = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await signal.wait()
                    seen.ended.add(1, ordering: .relaxed)
                }
                group.addTask {
                    await signal.wait(timeout: .seconds(3600))
                    seen.ended.add(1, ordering: .relaxed)
                }
                // Cancel only once both are registered, not before they start waiting.
                while signal.waiterCount < 2 && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(1)) }
                seen.cancelled.store(true, ordering: .releasing)
                group.cancelAll()
            }
        }
        defer { waits.cancel() }
        // A hang is told from a slow machine only by time: generous, since in the full suite on
        // two cores the cooperative pool can be busy with other tests for many seconds.
        try await Poll.until("both waits to end after their task was cancelled", timeout: .seconds(300)) {
            seen.ended.load(ordering: .relaxed) == 2
        }
        let cancelledWhileWaiting = seen.cancelled.load(ordering: .acquiring)
        #expect(cancelledWhileWaiting)
        #expect(signal.waiterCount == 0)
    }

    /// Timeouts racing with signals: the old flag could strand a waiter whose cancel raced
    /// its own registration (the task then hung for good), or erase a signal while cleaning
    /// up after a timeout. Every wait must end, and the last signal must still wake a waiter.
    @Test(.timeLimit(.minutes(1))) func timeoutsRacingSignalsNeverStrandAWaiterOrLoseTheLastSignal() async {
        let signal = AsyncSignal()
        let rounds = 20_000
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for _ in 0..<rounds { await signal.wait(timeout: .microseconds(1)) }
            }
            group.addTask {
                for round in 0..<rounds {
                    signal.signal()
                    if round % 64 == 0 { await Task.yield() }
                }
            }
        }
        signal.signal()
        let started = ContinuousClock.now
        await signal.wait(timeout: .seconds(30))
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}

/// What the waiting tasks report to the test that polls them.
private final class Seen: Sendable {
    let ended = Atomic<Int>(0)
    let cancelled = Atomic<Bool>(false)
}
