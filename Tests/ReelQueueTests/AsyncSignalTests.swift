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

    @Test func cancellingTheWaitingTaskEndsTheWait() async {
        let signal = AsyncSignal()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await signal.wait() }
            group.addTask { await signal.wait(timeout: .seconds(3600)) }
            try? await Task.sleep(for: .milliseconds(20))
            group.cancelAll()
        }
        // Reaching here is the assertion: both waits returned on cancel.
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
