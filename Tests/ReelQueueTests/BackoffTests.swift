import ReelQueue
import Testing

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
