import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Testing

/// Credits against a real PostgreSQL: reserve at submit, capture or release in the statements
/// that end jobs, the monthly grant, purchases, and a ledger that always explains the balance.
@Suite struct CreditsTests {
    let database: Database
    let queue: JobQueue
    let ledger: CreditLedger

    init() throws {
        database = try TestDatabase.makePool(connections: 6)
        queue = JobQueue(database: database)
        ledger = CreditLedger(database: database)
    }

    /// Default tiers and costs, with system.sleep priced so that tests need no project.
    func apply(monthly: Int = 1000) async throws {
        var settings = QueueSettings()
        settings.tiers[.free]?.monthlyCredits = monthly
        settings.tiers[.free]?.classes[.video] = .init(concurrent: 100, perMinute: 100_000)
        settings.costs.append(.init(kind: .sleep, estimate: 10, perUnit: [:]))
        settings.costs.append(.init(kind: .sleep, model: "deluxe", estimate: 25, perUnit: [:]))
        try await queue.apply(settings)
    }

    func submit(_ user: UUID, key: String? = nil, model: String? = nil) async throws -> SubmitReceipt {
        var args: [String: JSONValue] = ["seconds": 1, "class": "video"]
        if let model { args["model"] = .string(model) }
        return try await queue.submit(JobSubmission(kind: .sleep, args: .object(args), userID: user, idempotencyKey: key))
    }

    func claimAll() async throws -> [ClaimedJob] {
        try await queue.claim(owner: "n1", limit: 100, lease: .seconds(30))
    }

    func movements(_ job: UUID) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try await database.query("select type, amount from credit_transactions where job_id = $1::uuid", [job]) {
            result[try row.string("type")] = try row.int("amount")
        }
        return result
    }

    /// The ledger explains every balance: balance = grants + purchases + adjustments − captures −
    /// open reserves, reserved = open reserves, and every settled job's reserve = capture + release.
    func expectLedgerBalances(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let users = try await database.query(
            """
            select s.user_id, s.credits_balance, s.credits_reserved,
                   coalesce(sum(t.amount) filter (where t.type in ('grant', 'purchase', 'adjustment')), 0)
                   - coalesce(sum(t.amount) filter (where t.type = 'capture'), 0) as earned_minus_spent,
                   coalesce(sum(t.amount) filter (where t.type = 'reserve'), 0)
                   - coalesce(sum(t.amount) filter (where t.type in ('capture', 'release')), 0) as open_reserves
            from subscriptions s left join credit_transactions t on t.user_id = s.user_id
            group by s.user_id, s.credits_balance, s.credits_reserved
            """)
        for row in users {
            let balance = try row.int("credits_balance"), reserved = try row.int("credits_reserved")
            #expect(reserved == (try row.int("open_reserves")), sourceLocation: sourceLocation)
            #expect(balance == (try row.int("earned_minus_spent")) - reserved, sourceLocation: sourceLocation)
            #expect(balance >= 0, sourceLocation: sourceLocation)
        }
        let unbalanced = try await database.query(
            """
            select job_id from credit_transactions where job_id is not null
            group by job_id
            having bool_or(type in ('capture', 'release'))
               and sum(amount) filter (where type = 'reserve') <> coalesce(sum(amount) filter (where type in ('capture', 'release')), 0)
            """)
        #expect(unbalanced.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func submitReservesTheEstimateAndSuccessCapturesWhatTheWorkCost() async throws {
        try await apply()
        let user = try await TestDatabase.makeUser(database)
        let job = try await submit(user).jobID
        var account = try #require(try await ledger.account(user: user))
        #expect(account.balance == 990 && account.reserved == 10)
        _ = try await claimAll()
        // The handler measured its usage: 7 of the 10 reserved.
        try await database.query("update jobs set credits_used = 7 where id = $1::uuid", [job])
        try await queue.complete([(queue.lease(of: job), [:])])
        #expect(try await movements(job) == ["reserve": 10, "capture": 7, "release": 3])
        account = try #require(try await ledger.account(user: user))
        #expect(account.balance == 993 && account.reserved == 0)
        #expect(account.movements.map(\.kind) == [.release, .capture, .reserve, .grant])
        try await expectLedgerBalances()
    }

    @Test func aSuccessIsChargedAtMostItsReserve() async throws {
        try await apply()
        let user = try await TestDatabase.makeUser(database)
        let job = try await submit(user, model: "deluxe").jobID
        _ = try await claimAll()
        try await database.query("update jobs set credits_used = 400 where id = $1::uuid", [job])
        try await queue.complete([(queue.lease(of: job), [:])])
        #expect(try await movements(job) == ["reserve": 25, "capture": 25])
        try await expectLedgerBalances()
    }

    @Test func failureCancelAndRescueReleaseTheWholeReserve() async throws {
        try await apply()
        let user = try await TestDatabase.makeUser(database)
        let failed = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 1, "class": "video"], userID: user, maxAttempts: 1)).jobID
        let cancelledQueued = try await submit(user).jobID
        let cancelledRunning = try await submit(user).jobID
        let rescued = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 1, "class": "video"], userID: user, maxAttempts: 1)).jobID
        #expect(try await queue.cancel(job: cancelledQueued) == .cancelled)
        _ = try await claimAll()
        #expect(try await queue.fail(queue.lease(of: failed), error: JobError("boom"), delay: .zero) == .failed)
        #expect(try await queue.cancel(job: cancelledRunning) == .running)
        try await queue.acknowledgeCancel(queue.lease(of: cancelledRunning))
        try await database.query("update jobs set lease_expires_at = now() - interval '1 minute' where id = $1::uuid", [rescued])
        #expect(try await queue.rescueExpired() == [rescued])
        for job in [failed, cancelledQueued, cancelledRunning, rescued] {
            #expect(try await movements(job) == ["reserve": 10, "release": 10])
        }
        let account = try #require(try await ledger.account(user: user))
        #expect(account.balance == 1000 && account.reserved == 0)
        try await expectLedgerBalances()
    }

    /// A cancel asked for while the job ran wins over its attempt's failure or snooze: the job
    /// ends cancelled and releases its reserve, instead of running (and being charged) again.
    @Test func aCancelAskedForWhileRunningEndsTheJobWhenItsAttemptFailsOrSnoozes() async throws {
        try await apply()
        let user = try await TestDatabase.makeUser(database)
        let failing = try await submit(user).jobID
        let throttled = try await submit(user).jobID
        let snoozing = try await submit(user).jobID
        #expect(try await claimAll().count == 3)
        #expect(try await queue.cancel(jobs: [failing, throttled, snoozing]).values.allSatisfy { $0 == .running })
        #expect(try await queue.fail(queue.lease(of: failing), error: JobError("flaky"), delay: .zero) == .cancelled)
        #expect(try await queue.fail(queue.lease(of: throttled), error: JobError("429", class: .throttled), delay: .zero) == .cancelled)
        #expect(try await queue.snooze(queue.lease(of: snoozing), for: .zero, state: ["task": "t-1"]))
        for job in [failing, throttled, snoozing] {
            let row = try await database.query("select state::text as state, finished_at is not null as done from jobs where id = $1::uuid", [job])[0]
            #expect(try row.string("state") == "cancelled")
            #expect(try row.bool("done"))
            #expect(try await movements(job) == ["reserve": 10, "release": 10])
        }
        #expect(try await claimAll().isEmpty)
        let account = try #require(try await ledger.account(user: user))
        #expect(account.balance == 1000 && account.reserved == 0)
        try await expectLedgerBalances()
    }

    @Test func aRetryableFailureKeepsTheReserveUntilTheJobEnds() async throws {
        try await apply()
        let user = try await TestDatabase.makeUser(database)
        let job = try await submit(user).jobID
        _ = try await claimAll()
        #expect(try await queue.fail(queue.lease(of: job), error: JobError("flaky"), delay: .zero) == .retryable)
        #expect(try await movements(job) == ["reserve": 10])
        _ = try await claimAll()
        try await queue.complete([(queue.lease(of: job), [:])])
        #expect(try await movements(job) == ["reserve": 10, "capture": 10])
        try await expectLedgerBalances()
    }

    @Test func anOperatorsRetryIsNotChargedFromAReleasedReserve() async throws {
        try await apply()
        let user = try await TestDatabase.makeUser(database)
        let job = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 1, "class": "video"], userID: user, maxAttempts: 1)).jobID
        _ = try await claimAll()
        _ = try await queue.fail(queue.lease(of: job), error: JobError("boom"), delay: .zero)
        #expect(try await queue.retry(job: job))
        _ = try await claimAll()
        try await queue.complete([(queue.lease(of: job), [:])])
        #expect(try await movements(job) == ["reserve": 10, "release": 10])
        try await expectLedgerBalances()
    }

    @Test func aSubmitTheBalanceCannotCoverIsRefusedAndLeavesNoTrace() async throws {
        try await apply(monthly: 25)
        let user = try await TestDatabase.makeUser(database)
        _ = try await submit(user)
        _ = try await submit(user)
        await #expect { try await submit(user) } throws: { error in
            "\(error)".contains("credits: system.sleep needs 10 credits but the balance is 5 (20 reserved by queued jobs)")
        }
        #expect(try await database.query("select count(*) as n from jobs where user_id = $1::uuid", [user])[0].int("n") == 2)
        #expect(try await database.query("select count(*) as n from credit_transactions where type = 'reserve'")[0].int("n") == 2)
        // A purchase makes room; the same payment again adds nothing.
        #expect(try await ledger.purchase(user: user, credits: 100, reference: "pay-1"))
        #expect(try await !ledger.purchase(user: user, credits: 100, reference: "pay-1"))
        _ = try await submit(user)
        #expect(try await ledger.account(user: user)?.balance == 95)
        try await expectLedgerBalances()
    }

    @Test func aReplayedSubmitReservesOnce() async throws {
        try await apply()
        let user = try await TestDatabase.makeUser(database)
        let results = try await withThrowingTaskGroup(of: SubmitReceipt.self) { group in
            for _ in 0..<6 { group.addTask { try await submit(user, key: "once") } }
            return try await group.reduce(into: [SubmitReceipt]()) { $0.append($1) }
        }
        #expect(Set(results.map(\.jobID)).count == 1)
        #expect(results.filter(\.created).count == 1)
        #expect(try await ledger.account(user: user)?.reserved == 10)
        try await expectLedgerBalances()
    }

    @Test func theMonthlyAllowanceIsGrantedOncePerPeriodWhoeverAsks() async throws {
        try await apply()
        let user = try await TestDatabase.makeUser(database)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 { group.addTask { _ = try await ledger.account(user: user) } }
            try await group.waitForAll()
        }
        #expect(try await database.query("select count(*) as n from credit_transactions where type = 'grant'")[0].int("n") == 1)
        // The next month grants again, once.
        for _ in 0..<3 {
            try await database.query("select reeld.credit_account($1::uuid, now() + interval '1 month')", [user])
        }
        #expect(try await ledger.account(user: user)?.balance == 2000)
        #expect(try await database.query("select count(*) as n from credit_transactions where type = 'grant'")[0].int("n") == 2)
        try await expectLedgerBalances()
    }

    @Test func anAdjustmentCannotTakeTheBalanceBelowZero() async throws {
        try await apply()
        let user = try await TestDatabase.makeUser(database)
        #expect(try await ledger.adjust(user: user, credits: -400, note: "refund reversed"))
        await #expect { try await ledger.adjust(user: user, credits: -601) } throws: { error in
            "\(error)".contains("would make it negative")
        }
        #expect(try await ledger.account(user: user)?.balance == 600)
        try await expectLedgerBalances()
    }

    @Test func jobsWithoutAUserOrACostTouchNoAccount() async throws {
        try await apply()
        let user = try await TestDatabase.makeUser(database)
        _ = try await queue.submit(JobSubmission(kind: .noop, userID: user))
        _ = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 1]))
        #expect(try await database.query("select count(*) as n from subscriptions")[0].int("n") == 0)
        #expect(try await database.query("select count(*) as n from credit_transactions")[0].int("n") == 0)
    }

    @Test func usageIsPricedByKindModelAndUnit() async throws {
        var settings = QueueSettings()
        settings.costs = [
            .init(kind: .video, estimate: 100, perUnit: ["video_seconds": 10]),
            .init(kind: .video, model: "veo-3.1", estimate: 300, perUnit: ["video_seconds": 25]),
        ]
        try await queue.apply(settings)
        func price(_ model: String?, _ unit: String, _ units: Double) async throws -> Int {
            try await database.query("select reeld.usage_credits('video.generate', $1, $2, $3::double precision) as c", [model, unit, units])[0].int("c")
        }
        #expect(try await price(nil, "video_seconds", 5) == 50)
        #expect(try await price("kling-v2", "video_seconds", 4.2) == 42)
        #expect(try await price("veo-3.1", "video_seconds", 8) == 200)
        #expect(try await price("veo-3.1", "frames", 8) == 300, "a unit without a price is charged the estimate")
        #expect(try await database.query("select reeld.estimate_credits('video.generate', 'veo-3.1') as c")[0].int("c") == 300)
        #expect(try await database.query("select reeld.estimate_credits('audio.sfx', null) as c")[0].int("c") == 0)
    }
}
