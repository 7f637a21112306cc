import Foundation
import ReelCore
import Synchronization
import Testing

@testable import ReelQueue

@Suite struct BackoffTests {
    let backoff = Backoff(base: .seconds(2), cap: .seconds(60))

    @Test func ceilingDoublesPerAttemptUpToTheCap() {
        #expect(backoff.ceiling(afterAttempt: 1) == .seconds(2))
        #expect(backoff.ceiling(afterAttempt: 2) == .seconds(4))
        #expect(backoff.ceiling(afterAttempt: 5) == .seconds(32))
        #expect(backoff.ceiling(afterAttempt: 6) == .seconds(60))
        #expect(backoff.ceiling(afterAttempt: 500) == .seconds(60))
    }

    @Test func fullJitterSpansZeroToTheCeiling() {
        #expect(backoff.delay(afterAttempt: 3, random: { 0 }) == .zero)
        #expect(backoff.delay(afterAttempt: 3, random: { 0.5 }) == .seconds(4))
        #expect(backoff.delay(afterAttempt: 3, random: { 0.999 }) < .seconds(8))
    }

    @Test func retryAfterWinsOverTheComputedDelayButNotOverTheCap() {
        #expect(backoff.delay(afterAttempt: 1, retryAfter: .seconds(17), random: { 0 }) == .seconds(17))
        #expect(backoff.delay(afterAttempt: 1, retryAfter: .seconds(3600), random: { 0 }) == .seconds(60))
    }
}

/// Backoff without jitter, and retries that wait on an injected clock.
@Suite struct BackoffRetryTests {
    /// Records the waits instead of sleeping.
    final class RecordingClock: QueueClock {
        let waits = Mutex<[Duration]>([])
        func now() -> Date? { nil }
        func sleep(for duration: Duration) async throws { waits.withLock { $0.append(duration) } }
    }

    struct Unavailable: Error {}

    @Test func withoutJitterTheDelayIsTheCeiling() {
        let backoff = Backoff(base: .milliseconds(200), cap: .seconds(5), jitter: .none)
        let delays = (1...8).map { backoff.delay(afterAttempt: $0, random: { Issue.record("no draw without jitter"); return 0 }) }
        #expect(delays == [200, 400, 800, 1600, 3200, 5000, 5000, 5000].map { Duration.milliseconds($0) })
        #expect(backoff.delay(afterAttempt: 1, retryAfter: .seconds(9)) == .seconds(5))
    }

    @Test func retryingWaitsBetweenTriesButNotAfterTheLast() async {
        let clock = RecordingClock()
        let backoff = Backoff(base: .milliseconds(200), cap: .seconds(2), jitter: .none)
        var failures: [Int] = []
        let result: Int? = await backoff.retrying(attempts: 5, clock: clock, failed: { _, attempt in failures.append(attempt) }) {
            throw Unavailable()
        }
        #expect(result == nil)
        #expect(failures == [1, 2, 3, 4, 5])
        #expect(clock.waits.withLock { $0 } == [200, 400, 800, 1600].map { Duration.milliseconds($0) })
    }

    @Test func retryingReturnsTheFirstSuccess() async {
        let clock = RecordingClock()
        let backoff = Backoff(base: .seconds(1), cap: .seconds(8))
        var calls = 0
        let result = await backoff.retrying(attempts: 10, clock: clock, random: { 0.5 }, failed: { _, _ in }) {
            calls += 1
            if calls < 3 { throw Unavailable() }
            return calls
        }
        #expect(result == 3)
        // Full jitter: half of each ceiling with this draw.
        #expect(clock.waits.withLock { $0 } == [.milliseconds(500), .seconds(1)])
    }
}
