import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Testing

/// A snooze spends no attempt and a throttle gives its attempt back: without a deadline, a
/// task that stays pending or a provider that answers 429 forever would keep a job cycling
/// with its credits reserved. Past its kind's deadline the job fails, naming the deadline, and
/// releases its reserve.
extension CreditsTests {
    /// The manual clock starts later than the database's clock, so submitted jobs are due.
    func deadlineQueue() -> (JobQueue, ManualClock) {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_900_000_000))
        return (JobQueue(database: database, clock: clock), clock)
    }

    func applyDeadlines(waiting: Duration?, throttled: Duration?) async throws {
        var settings = QueueSettings()
        settings.tiers[.free]?.classes[.video] = .init(concurrent: 100, perMinute: 100_000)
        settings.costs.append(.init(kind: .sleep, estimate: 10, perUnit: [:]))
        settings.deadlines[.sleep] = .init(waiting: waiting, throttled: throttled)
        try await queue.apply(settings)
    }

    func jobState(_ job: UUID) async throws -> (state: String, lastError: JSONValue?) {
        let row = try await database.query("select state::text, errors -> -1 as last from jobs where id = $1::uuid", [job])[0]
        return (try row.string("state"), try row.optionalJSON("last"))
    }

    @Test func aJobWaitingOnItsProviderPastItsDeadlineFailsAndReleasesItsReserve() async throws {
        try await applyDeadlines(waiting: .seconds(60), throttled: nil)
        let (queue, clock) = deadlineQueue()
        let user = try await TestDatabase.makeUser(database)
        let job = try await submit(user).jobID
        for _ in 0..<2 {
            let claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
            #expect(try await queue.snooze(claimed.lease, for: .seconds(30), state: ["task_id": "t-1"]))
            #expect(try await jobState(job).state == "waiting", "within its deadline it waits on")
            clock.advance(by: .seconds(31))
        }
        // 62 s after its first snooze, the provider still works: the job gives up.
        let claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
        #expect(claimed.attempt == 1, "snoozes spent no attempt")
        #expect(try await queue.snooze(claimed.lease, for: .seconds(30), state: ["task_id": "t-1"]))
        let (state, last) = try await jobState(job)
        #expect(state == "failed")
        #expect(last?["class"]?.stringValue == "deadline")
        #expect(last?["error"]?.stringValue?.contains("waiting deadline") == true)
        #expect(try await movements(job) == ["reserve": 10, "release": 10])
        try await expectLedgerBalances()
        #expect(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).isEmpty)
    }

    @Test func aJobThrottledPastItsDeadlineFailsAndReleasesItsReserve() async throws {
        try await applyDeadlines(waiting: nil, throttled: .seconds(60))
        let (queue, clock) = deadlineQueue()
        let user = try await TestDatabase.makeUser(database)
        let job = try await queue.submit(JobSubmission(
            kind: .sleep, args: ["seconds": 1, "class": "video", "provider": "kling"], userID: user)).jobID
        for _ in 0..<2 {
            let claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
            #expect(try await queue.fail(claimed.lease, error: JobError("429", class: .throttled, retryAfter: .seconds(30)),
                                         delay: .seconds(30)) == .retryable)
            clock.advance(by: .seconds(31))
        }
        let claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
        #expect(try await queue.fail(claimed.lease, error: JobError("429", class: .throttled, retryAfter: .seconds(30)),
                                     delay: .seconds(30)) == .failed)
        let (state, last) = try await jobState(job)
        #expect(state == "failed")
        #expect(last?["class"]?.stringValue == "deadline")
        #expect(last?["error"]?.stringValue?.contains("throttled deadline") == true)
        #expect(try await movements(job) == ["reserve": 10, "release": 10])
        try await expectLedgerBalances()
    }

    /// An attempt that ends any other way starts the throttle's count again: only a provider
    /// that answers 429 without a break runs the deadline out.
    @Test func aThrottleDeadlineCountsOnlyUnbrokenThrottling() async throws {
        try await applyDeadlines(waiting: nil, throttled: .seconds(60))
        let (queue, clock) = deadlineQueue()
        let user = try await TestDatabase.makeUser(database)
        let job = try await queue.submit(JobSubmission(
            kind: .sleep, args: ["seconds": 1, "class": "video", "provider": "kling"], userID: user)).jobID
        var claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
        #expect(try await queue.fail(claimed.lease, error: JobError("429", class: .throttled, retryAfter: .seconds(50)), delay: .zero) == .retryable)
        clock.advance(by: .seconds(51))
        claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
        #expect(try await queue.snooze(claimed.lease, for: .seconds(5), state: ["task_id": "t-1"]))
        clock.advance(by: .seconds(6))
        claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
        #expect(try await queue.fail(claimed.lease, error: JobError("429", class: .throttled, retryAfter: .seconds(5)), delay: .zero) == .retryable)
        #expect(try await jobState(job).state == "retryable")
    }
}
