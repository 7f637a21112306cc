import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Synchronization
import Testing

/// The fair claim against a real PostgreSQL, with a manual clock: tier and provider limits,
/// round robin between users, throttles. Jobs are `system.sleep` jobs given a class and a
/// provider by their args, so nothing here calls a provider.
@Suite struct FairClaimTests {
    let database: Database
    let clock = ManualClock(Date(timeIntervalSince1970: 1_900_000_000))
    let queue: JobQueue

    init() throws {
        database = try TestDatabase.makePool(connections: 6)
        queue = JobQueue(database: database, clock: clock, throttleBackoff: Backoff(base: .seconds(10), cap: .seconds(300)))
    }

    /// Settings whose every limit is `limit` unless `change` says otherwise.
    func apply(_ limit: QueueSettings.Limit = .init(concurrent: 100, perMinute: 100_000),
               providers: [String: QueueSettings.Limit] = [:],
               _ change: (inout QueueSettings) -> Void = { _ in }) async throws {
        var settings = QueueSettings(providerLimits: providers)
        for tier in Tier.allCases {
            settings.tiers[tier]?.classes = Dictionary(uniqueKeysWithValues: JobClass.limited.map { ($0, limit) })
        }
        change(&settings)
        try await queue.apply(settings)
    }

    func user(_ tier: Tier = .free, limits: JSONValue = [:]) async throws -> UUID {
        let id = try await TestDatabase.makeUser(database)
        try await database.query("insert into subscriptions (user_id, tier, limits) values ($1::uuid, $2::public.tier, $3::jsonb)",
                                 [id, tier.rawValue, limits])
        return id
    }

    @discardableResult
    func submit(_ user: UUID?, _ jobClass: JobClass = .video, provider: String? = nil, priority: Int = 100) async throws -> UUID {
        var args: [String: JSONValue] = ["seconds": 1, "class": .string(jobClass.rawValue)]
        if let provider { args["provider"] = .string(provider) }
        return try await queue.submit(JobSubmission(kind: .sleep, args: .object(args), userID: user, priority: priority,
                                                    runAt: clock.now())).jobID
    }

    /// A backlog of `count` jobs in one statement (the trigger still makes the lane).
    func backlog(_ user: UUID, _ count: Int, _ jobClass: JobClass = .video, provider: String? = nil) async throws {
        try await database.query(
            """
            insert into jobs (kind, args, max_attempts, user_id, job_class, provider, run_at)
            select 'system.sleep', '{"seconds": 1}', 3, $1::uuid, $2, $3, $5::timestamptz - make_interval(secs => g)
            from generate_series(1, $4::int) g
            """, [user, jobClass.rawValue, provider, count, clock.now()])
    }

    func claim(_ owner: String = "n1", limit: Int = 64) async throws -> [ClaimedJob] {
        try await queue.claim(owner: owner, limit: limit, lease: .seconds(30))
    }

    /// A pro user's `count` video jobs on kling, limits that do not bind, all claimed by n1.
    func claimedOnKling(_ count: Int) async throws -> (user: UUID, jobs: [ClaimedJob]) {
        try await apply(providers: ["kling": .init(concurrent: 100, perMinute: 100_000)])
        let u = try await user(.pro)
        try await backlog(u, count, .video, provider: "kling")
        let jobs = try await claim(limit: count)
        #expect(jobs.count == count)
        return (u, jobs)
    }

    func running(user: UUID) async throws -> Int {
        try await database.query("select count(*) as n from jobs where user_id = $1::uuid and state = 'running'", [user])[0].int("n")
    }

    @Test func aHeavyBacklogDoesNotHoldBackALightUsersJob() async throws {
        try await apply()
        let heavy = try await user(.enterprise)
        let light = try await user(.free)
        try await backlog(heavy, 10_000)
        _ = try await claim(limit: 4)
        // The heavy user's older, more urgent jobs would all come first in priority order; the
        // light user's job is in the very next claim, and the heavy lane fills the rest of it.
        let lightJob = try await submit(light)
        let claimed = try await claim(limit: 4)
        #expect(claimed.first { $0.userID == light }?.id == lightJob)
        #expect(claimed.count == 4)
    }

    func lane(_ user: UUID, _ jobClass: JobClass = .video) async throws -> (depth: Int, due: Bool) {
        let row = try await database.query(
            "select depth, due_at is not null as due from reeld.lanes where user_id = $1::uuid and job_class = $2",
            [user, jobClass.rawValue])[0]
        return (try row.int("depth"), try row.bool("due"))
    }

    /// A claim holds the locks of the lanes it serves until it commits, and other claims pass
    /// those lanes over: it must lock no lane it will not serve. Thirty lanes of 16 jobs, a claim of 32: two lanes served (emptied), and only they hold our
    /// transaction's lock (its xid as xmax: the claim rewrites them in a subtransaction, which
    /// carries the lock to the new version).
    @Test func aClaimLocksOnlyTheLanesItServes() async throws {
        try await apply()
        for _ in 0..<30 {
            try await backlog(try await user(.pro), 16)
        }
        let now = clock.now()
        let (claimed, served, locked) = try await database.transaction { conn in
            let claimed = try conn.query("select count(*) as n from reeld.claim('n1', 32, $1::timestamptz, 30)", [now])[0].int("n")
            let row = try conn.query(
                """
                select count(*) filter (where depth = 0) as served,
                       count(*) filter (where xmax = pg_current_xact_id()::xid) as locked
                from reeld.lanes
                """)[0]
            return (claimed, try row.int("served"), try row.int("locked"))
        }
        #expect(claimed == 32)
        #expect(served == 2)
        #expect(locked == 2)
    }

    /// A lane whose turn took all its depth is looked at in the same claim:
    /// empty, it leaves the round robin at once rather than costing the next claim a visit that
    /// finds nothing; with more work than its depth said, it stays due and is served again.
    @Test func aLaneIsRetiredWhenItsTurnEmptiesItAndKeptWhenItsDepthUndercounts() async throws {
        try await apply()
        let emptied = try await user()
        try await backlog(emptied, 10)
        #expect(try await claim(limit: 64).count == 10)
        #expect(try await lane(emptied) == (depth: 0, due: false))

        let undercounted = try await user()
        try await backlog(undercounted, 10)
        try await database.query("update reeld.lanes set depth = 3 where user_id = $1::uuid", [undercounted])
        #expect(try await claim(limit: 64).count == 3)
        #expect(try await lane(undercounted).due)
        var served = 3
        while served < 10 {
            let claimed = try await claim(limit: 64).count
            #expect(claimed > 0)
            guard claimed > 0 else { break }
            served += claimed
        }
        #expect(served == 10)
        #expect(try await lane(undercounted) == (depth: 0, due: false))
    }

    @Test func aUserNeverRunsMoreThanTheirTierAllowsEvenWhenNodesClaimAtOnce() async throws {
        try await apply(.init(concurrent: 2, perMinute: 100_000))
        let u = try await user()
        try await backlog(u, 50)
        let claims = try await withThrowingTaskGroup(of: Int.self) { group in
            for node in 0..<6 { group.addTask { try await claim("node-\(node)", limit: 10).count } }
            return try await group.reduce(0, +)
        }
        #expect(claims == 2)
        #expect(try await running(user: u) == 2)
        // Ending a job frees its slot for the next claim.
        let ids = try await database.query("select id from jobs where user_id = $1::uuid and state = 'running'", [u]).map { try $0.uuid("id") }
        try await queue.complete([(queue.lease(of: ids[0]), [:])])
        #expect(try await claim(limit: 10).count == 1)
        #expect(try await running(user: u) == 2)
    }

    /// The running counts the claim reads (started on lanes and providers, less
    /// ended) must equal the running jobs after every way an attempt ends, or limits drift.
    @Test func runningCountersMatchTheRunningJobsAfterEveryWayAnAttemptEnds() async throws {
        var (u, jobs) = try await claimedOnKling(12)
        func counted() async throws -> (lane: Int, provider: Int, running: Int, providerRunning: Int) {
            let row = try await database.query(
                """
                select (select started from reeld.lanes where user_id = $1::uuid and job_class = 'video')
                         - coalesce((select ended from reeld.lane_ends where user_id = $1::uuid and job_class = 'video'), 0) as lane,
                       (select started from reeld.providers where name = 'kling')
                         - coalesce((select ended from reeld.provider_ends where name = 'kling'), 0) as provider,
                       (select count(*) from jobs where user_id = $1::uuid and state = 'running') as running,
                       (select count(*) from jobs where provider = 'kling' and state = 'running') as provider_running
                """, [u])[0]
            return (try row.int("lane"), try row.int("provider"), try row.int("running"), try row.int("provider_running"))
        }
        func expectBalanced(_ comment: Comment) async throws {
            let c = try await counted()
            #expect(c.lane == c.running, comment)
            #expect(c.provider == c.providerRunning, comment)
        }
        try await expectBalanced("after the claim")
        try await queue.complete([(jobs[0].lease, [:]), (jobs[1].lease, [:])])
        try await expectBalanced("after completions")
        try await queue.fail(jobs[2].lease, error: JobError("flaky"), delay: .seconds(1))
        try await queue.fail(jobs[3].lease, error: .permanent("bad input"), delay: .zero)
        try await queue.fail(jobs[4].lease, error: JobError("429", class: .throttled, retryAfter: .seconds(5)), delay: .zero)
        try await expectBalanced("after failures")
        try await queue.snooze(jobs[5].lease, for: .seconds(30), state: ["task": "t"])
        try await expectBalanced("after a snooze")
        _ = try await queue.cancel(job: jobs[6].id)
        try await expectBalanced("after a cancel was requested (still running)")
        try await queue.acknowledgeCancel(jobs[6].lease)
        try await queue.release([jobs[7].lease])
        try await expectBalanced("after a cancel and a hand-back")
        // A node that lost its lease can end nothing: the guard holds and the counts stay put.
        try await queue.complete([(JobLease(job: jobs[8].id, token: UUID()), [:])])
        try await expectBalanced("after a stale completion")
        clock.advance(by: .seconds(31))
        #expect(try await queue.rescueExpired().count == 4)
        try await expectBalanced("after the rescue")
        #expect(try await counted().running == 0)
        // And the freed room is claimable again, counted again.
        clock.advance(by: .seconds(60))
        jobs = try await claim(limit: 12)
        #expect(!jobs.isEmpty)
        try await expectBalanced("after claiming again")
    }

    @Test func limitsAreCountedPerClass() async throws {
        try await apply(.init(concurrent: 1, perMinute: 100_000))
        let u = try await user()
        for jobClass in JobClass.limited { try await backlog(u, 5, jobClass) }
        #expect(try await claim().count == 4, "one per class")
    }

    @Test func anEnterpriseSubscriptionOverridesItsTiersLimits() async throws {
        try await apply(.init(concurrent: 1, perMinute: 100_000))
        let big = try await user(.enterprise, limits: ["concurrent": ["video": 3]])
        let overriddenOnFree = try await user(.free, limits: ["concurrent": ["video": 3]])
        try await backlog(big, 10)
        try await backlog(overriddenOnFree, 10)
        _ = try await claim()
        #expect(try await running(user: big) == 3)
        #expect(try await running(user: overriddenOnFree) == 1, "only an enterprise subscription overrides")
    }

    @Test func theRateIsATokenBucketHoldingOneMinute() async throws {
        try await apply(.init(concurrent: 100, perMinute: 6))
        let u = try await user()
        try await backlog(u, 50)
        #expect(try await claim().count == 6, "a full bucket: one minute's worth")
        #expect(try await claim().isEmpty)
        let next = try #require(try await queue.nextClaimAt())
        #expect(abs(next.timeIntervalSince(clock.now()!) - 10) < 0.01, "the next token comes in 60 s / 6")
        clock.advance(by: .seconds(10))
        #expect(try await claim().count == 1)
        clock.advance(by: .seconds(25))
        #expect(try await claim().count == 2)
    }

    @Test func lanesAreServedRoundRobinAndALaneAtItsLimitDoesNotBlockTheNext() async throws {
        try await apply(.init(concurrent: 100, perMinute: 100_000))
        let users = [try await user(), try await user(), try await user()]
        for u in users { try await backlog(u, 20) }
        var served: [UUID] = []
        for _ in 0..<6 {
            let job = try #require(try await claim(limit: 1).first)
            served.append(try #require(job.userID))
        }
        // Every user once before any user twice.
        #expect(Set(served.prefix(3)) == Set(users))
        #expect(Set(served.suffix(3)) == Set(users))

        // At its limit, the least recently served lane is looked at, passed over and rotated.
        try await apply(.init(concurrent: 2, perMinute: 100_000))
        let fresh = try await user()
        try await submit(fresh)
        let next = try await claim(limit: 1)
        #expect(next.first?.userID == fresh)
    }

    @Test func systemJobsAreUnlimitedAndFillWhatIsLeftOfTheBatch() async throws {
        try await apply(.init(concurrent: 1, perMinute: 100_000))
        let u = try await user()
        try await backlog(u, 10)
        for _ in 0..<10 { try await submit(nil) }
        let claimed = try await claim(limit: 8)
        #expect(claimed.filter { $0.userID == u }.count == 1)
        #expect(claimed.filter { $0.userID == nil }.count == 7)
    }

    @Test func aProviderAtItsLimitHoldsOnlyItsOwnJobsBack() async throws {
        try await apply(providers: ["kling": .init(concurrent: 2)])
        let users = [try await user(), try await user(), try await user()]
        for u in users { try await backlog(u, 100, provider: "kling") }
        // Behind a hundred kling jobs, one for another provider.
        let other = try await submit(users[0], provider: "local", priority: 900)
        let claimed = try await claim()
        #expect(claimed.count == 2, "the backlog's jobs are kling's: two at once")
        #expect(claimed.allSatisfy { $0.args["provider"] == nil })
        // Kling is full: its jobs are passed over, and the one behind them starts.
        #expect(try await claim().map(\.id) == [other])
        #expect(try await database.query("select count(*) as n from jobs where provider = 'kling' and state = 'running'")[0].int("n") == 2)
        #expect(try await claim().isEmpty)
    }

    /// A lane whose due jobs all wait for a full provider gets nothing from its turn: it must
    /// not hold back the lanes behind it. Here the kling lane was served before the render lane
    /// (so it comes first in the round robin) and its depth alone could fill the batch; the
    /// render job is claimed all the same, in the very next claim.
    @Test func aLaneWaitingForAFullProviderDoesNotHoldBackTheLanesBehindIt() async throws {
        try await apply(providers: ["kling": .init(concurrent: 1)])
        let a = try await user(.enterprise)
        let b = try await user(.enterprise)
        try await backlog(a, 20, .video, provider: "kling")
        #expect(try await claim(limit: 8).count == 1, "kling takes one at a time")
        // B is served once, after A's lane.
        try await submit(b, .render)
        let first = try await claim(limit: 8)
        #expect(first.map(\.userID) == [b])
        try await queue.complete(first.map { ($0.lease, [:]) })
        #expect(try await claim(limit: 8).isEmpty, "kling is full and B has nothing due")

        let job = try await submit(b, .render)
        #expect(try await claim(limit: 8).map(\.id) == [job])
        #expect(try await database.query("select count(*) as n from jobs where provider = 'kling' and state = 'running'")[0].int("n") == 1)
    }

    /// Lanes that got nothing go on to the back: with more lanes waiting for a full provider
    /// than a claim looks at, the job of another class behind them is still reached.
    @Test func manyLanesWaitingForAFullProviderDoNotStarveAnotherClass() async throws {
        try await apply(providers: ["kling": .init(concurrent: 1)])
        // More than the eight lanes a claim of one looks at.
        for _ in 0..<10 { try await backlog(try await user(.pro), 20, .video, provider: "kling") }
        #expect(try await claim(limit: 1).count == 1)
        let other = try await user(.pro)
        try await backlog(other, 1, .audio)
        try await database.query("update reeld.lanes set served_at = clock_timestamp() where user_id = $1::uuid", [other])
        var claimed: [ClaimedJob] = []
        for _ in 0..<4 where claimed.isEmpty { claimed = try await claim(limit: 1) }
        #expect(claimed.map(\.userID) == [other])
    }

    /// The running count of a provider must be exact whenever its limit is set or changed:
    /// runs that ended while it was unlimited must not become room, and jobs still running from
    /// then must count against it.
    @Test func aProviderLimitSetLaterCountsExactlyWhatRuns() async throws {
        try await apply()
        let u = try await user(.enterprise)
        try await backlog(u, 10, .video, provider: "kling")
        let unlimited = try await claim(limit: 10)
        #expect(unlimited.count == 10)
        try await queue.complete(unlimited.prefix(8).map { ($0.lease, [:]) })

        try await apply(providers: ["kling": .init(concurrent: 4)])
        try await backlog(u, 10, .video, provider: "kling")
        #expect(try await claim().count == 2, "two run already: room for two more")
        try await apply(providers: ["kling": .init(concurrent: 6)])
        #expect(try await claim().count == 2)
        #expect(try await claim().isEmpty)

        // Lifted, used, and set again: the count follows.
        try await apply()
        let more = try await claim(limit: 3)
        #expect(more.count == 3)
        let running = try await database.query("select id from jobs where provider = 'kling' and state = 'running'").map { try $0.uuid("id") }
        #expect(running.count == 9)
        for id in running.prefix(5) { try await queue.complete([(queue.lease(of: id), [:])]) }
        try await apply(providers: ["kling": .init(concurrent: 5)])
        #expect(try await claim().count == 1, "four run: room for one")
    }

    /// A limit set while a claim is in flight counts the jobs that claim starts: the settings
    /// wait for the claim to commit (it holds the settings' lock shared, and its lanes), and
    /// then count what runs, so the claim's jobs, started while the provider was unlimited,
    /// count against the new limit and their ends do not become room.
    @Test func aLimitSetWhileAClaimIsInFlightCountsItsJobs() async throws {
        try await apply()
        let u = try await user(.pro)
        try await backlog(u, 2, .video, provider: "kling")
        let claimed = Flag()
        let now = clock.now()
        async let holder: Bool = database.withConnection { conn in
            try conn.query("begin")
            #expect(try conn.query("select * from reeld.claim('n1', 2, $1::timestamptz, 30)", [now]).count == 2)
            claimed.value.store(true, ordering: .releasing)
            let waited = try Self.waitForALockWaiter(conn)
            try conn.query("commit")
            return waited
        }
        try await Poll.until("the claim to be in flight", timeout: .seconds(30), interval: .milliseconds(5)) {
            claimed.value.load(ordering: .acquiring)
        }
        try await apply(providers: ["kling": .init(concurrent: 1)])
        #expect(try await holder, "applying the settings waited for the claim")
        #expect(try await running(user: u) == 2)
        try await backlog(u, 1, .video, provider: "kling")
        #expect(try await claim().isEmpty, "both running jobs count against the new limit")
    }

    @Test func aProviderRateLimitHoldsAcrossUsers() async throws {
        try await apply(providers: ["eleven": .init(perMinute: 3)])
        for _ in 0..<4 {
            let u = try await user()
            try await backlog(u, 5, .audio, provider: "eleven")
        }
        #expect(try await claim().count == 3)
        clock.advance(by: .seconds(20))
        #expect(try await claim().count == 1)
    }

    /// Two nodes claim a provider's jobs at once. The first keeps its
    /// transaction open; the second reads the room the first has not committed, leases its
    /// jobs and then waits for the provider's row. When the first commits, the second finds the
    /// room taken, tries again holding the row, and takes what is left: it neither comes back
    /// empty because the row was busy (as when claims held provider rows throughout) nor
    /// exceeds the limit.
    @Test(arguments: [QueueSettings.Limit(concurrent: 10), QueueSettings.Limit(perMinute: 10)])
    func claimsRacingForAProvidersLastSlotsShareThemExactly(limit: QueueSettings.Limit) async throws {
        try await apply(providers: ["kling": limit])
        // Twelve lanes: the first claim locks up to eight (its cursor's fetch), the second
        // serves the others.
        for _ in 0..<12 {
            try await backlog(try await user(), 5, provider: "kling")
        }
        let now = clock.now()
        let firstClaimed = Flag()
        async let first: (count: Int, waiter: String?) = database.withConnection { conn in
            try conn.query("begin")
            let count = try conn.query("select count(*) as n from reeld.claim('n1', 6, $1::timestamptz, 30)", [now])[0].int("n")
            firstClaimed.value.store(true, ordering: .releasing)
            // Commit only once the second claim waits for a lock this transaction holds (kling's
            // row), so that it meets the room taken under it every time; if it never waits, the
            // race did not happen and the test says so.
            let waiter = try Self.waitForABackendBlocked(by: conn)
            try conn.query("commit")
            return (count, waiter)
        }
        try await Poll.until("the first claim to be done, its transaction open", timeout: .seconds(30), interval: .milliseconds(5)) {
            firstClaimed.value.load(ordering: .acquiring)
        }
        let second = try await claim("n2")
        let (firstCount, waiter) = try await first
        #expect(waiter?.contains("reeld.claim") == true, "the second claim never waited for the first's locks (waiter: \(waiter ?? "none"))")
        #expect(firstCount == 6)
        #expect(second.count == 4, "the second claim takes what the first left of kling's ten")
        #expect(try await database.query("select count(*) as n from jobs where provider = 'kling' and state = 'running'")[0].int("n") == 10)
        #expect(try await database.query("select started from reeld.providers where name = 'kling'")[0].int("started") == 10)
    }

    /// Waits, on `conn` (inside its open transaction), until another backend waits for a lock
    /// that `conn`'s backend holds (up to 30 s); returns that backend's statement, nil if none did.
    static func waitForABackendBlocked(by conn: PostgresConnection) throws -> String? {
        let holder = try conn.query("select pg_backend_pid() as pid")[0].int("pid")
        for _ in 0..<3000 {
            // pg_stat_activity is read once per transaction unless the snapshot is cleared.
            try conn.query("select pg_stat_clear_snapshot()")
            let blocked = try conn.query(
                "select query from pg_stat_activity where datname = current_database() and $1::int = any(pg_blocking_pids(pid))",
                [holder])
            if let row = blocked.first { return try row.string("query") }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }

    /// Waits, on `conn`, until another backend of this database waits for a lock (up to 30 s);
    /// false if none did.
    static func waitForALockWaiter(_ conn: PostgresConnection) throws -> Bool {
        for _ in 0..<3000 {
            try conn.query("select pg_stat_clear_snapshot()")
            let waiting = try conn.query(
                "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")
            if try waiting[0].int("n") > 0 { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    /// A statement that ends runs counts them on the lanes' rows before the providers' rows, the
    /// order every other statement takes: with the order left to PostgreSQL (which runs the CTEs
    /// no one reads last first), two batches could each hold the row the other waits for.
    @Test func anEndedRunIsCountedOnItsLaneBeforeItsProvider() async throws {
        let (u, jobs) = try await claimedOnKling(2)
        // The counters' rows exist once one run has ended.
        try await queue.complete([(jobs[0].lease, [:])])
        let laneHeld = Flag()
        async let holder: (waited: Bool, providerFree: Bool) = database.withConnection { conn in
            try conn.query("begin")
            try conn.query("select from reeld.lane_ends where user_id = $1::uuid and job_class = 'video' for update", [u])
            laneHeld.value.store(true, ordering: .releasing)
            let waited = try Self.waitForALockWaiter(conn)
            // The completion waits for the lane's row: it must not hold the provider's yet.
            let providerFree: Bool
            do {
                try conn.query("select from reeld.provider_ends where name = 'kling' for update nowait")
                providerFree = true
            } catch let error as DatabaseError where error.sqlState == "55P03" {
                providerFree = false
            }
            try conn.query("rollback")
            return (waited, providerFree)
        }
        try await Poll.until("the lane's counter row to be held", timeout: .seconds(30), interval: .milliseconds(5)) {
            laneHeld.value.load(ordering: .acquiring)
        }
        async let completed = queue.complete([(jobs[1].lease, [:])])
        let seen = try await holder
        #expect(seen.waited, "the completion waited for the lane's row")
        #expect(seen.providerFree, "the completion locked the provider's row before the lane's")
        #expect(try await completed == [jobs[1].id])
        let ended = try await database.query(
            """
            select (select ended from reeld.lane_ends where user_id = $1::uuid and job_class = 'video') as lane,
                   (select ended from reeld.provider_ends where name = 'kling') as provider
            """, [u])[0]
        #expect(try ended.int("lane") == 2)
        #expect(try ended.int("provider") == 2)
    }

    /// A rescue that returns several users' jobs locks their lanes in key order, before any job,
    /// as a client submitting in (user, class) order does: otherwise it would hold a later lane
    /// (through the job that made it due) while it waits for an earlier one, crosswise with such
    /// a client (40P01).
    @Test func aRescueLocksTheLanesOfItsJobsInKeyOrder() async throws {
        try await apply()
        let ids = [try await user(.pro), try await user(.pro)].sorted { $0.uuidString.lowercased() < $1.uuidString.lowercased() }
        let (first, second) = (ids[0], ids[1])
        // The later lane's job expires first, so a rescue that took lanes in its jobs' order
        // would lock the later lane first.
        try await submit(second)
        #expect(try await claim().count == 1)
        clock.advance(by: .seconds(1))
        try await submit(first)
        #expect(try await claim().count == 1)
        clock.advance(by: .seconds(60))
        let laneHeld = Flag()
        async let holder: (waited: Bool, laterLaneFree: Bool) = database.withConnection { conn in
            try conn.query("begin")
            try conn.query("select from reeld.lanes where user_id = $1::uuid and job_class = 'video' for update", [first])
            laneHeld.value.store(true, ordering: .releasing)
            let waited = try Self.waitForALockWaiter(conn)
            // The rescue waits for the earlier lane: it must not hold the later one yet.
            let laterLaneFree: Bool
            do {
                try conn.query("select from reeld.lanes where user_id = $1::uuid and job_class = 'video' for update nowait", [second])
                laterLaneFree = true
            } catch let error as DatabaseError where error.sqlState == "55P03" {
                laterLaneFree = false
            }
            try conn.query("rollback")
            return (waited, laterLaneFree)
        }
        try await Poll.until("the earlier lane to be held", timeout: .seconds(30), interval: .milliseconds(5)) {
            laneHeld.value.load(ordering: .acquiring)
        }
        async let rescued = queue.rescueExpired()
        let seen = try await holder
        #expect(seen.waited, "the rescue waited for the earlier lane")
        #expect(seen.laterLaneFree, "the rescue locked the later lane before the earlier one")
        #expect(try await rescued.count == 2)
    }

    /// Waits, on `conn`, until at least `count` other backends of this database wait for a
    /// lock, `done` holds, or `timeout` passes; false unless the waiters came.
    static func waitForLockWaiters(_ conn: PostgresConnection, count: Int, timeout: Double, done: () -> Bool = { false }) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, !done() {
            try conn.query("select pg_stat_clear_snapshot()")
            let waiting = try conn.query(
                "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")
            if try waiting[0].int("n") >= count { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    /// A node that starts or reloads (`reeld.apply_settings`) while another node claims: the
    /// settings hold a provider's row and wait (here for the costs' rows, held a moment by
    /// someone else), the claim holds a lane and waits for that provider's row. Both take lanes
    /// before providers, so neither ever waits for the other crosswise (40P01).
    @Test func applyingSettingsWhileAClaimWaitsForAProviderNeverDeadlocks() async throws {
        let kling: [String: QueueSettings.Limit] = ["kling": .init(concurrent: 100, perMinute: 100_000)]
        try await apply(providers: kling)
        let u = try await user(.pro)
        try await backlog(u, 4, .video, provider: "kling")
        let costsHeld = Flag(), settingsWaiting = Flag(), claimDone = Flag()
        async let holder: Bool = database.withConnection { conn in
            try conn.query("begin")
            try conn.query("select from reeld.costs for update")
            costsHeld.value.store(true, ordering: .releasing)
            let settingsWaited = try Self.waitForLockWaiters(conn, count: 1, timeout: 30)
            settingsWaiting.value.store(true, ordering: .releasing)
            // Gives the claim the time to wait for kling's row, which the settings hold.
            _ = try Self.waitForLockWaiters(conn, count: 2, timeout: 5) { claimDone.value.load(ordering: .acquiring) }
            try conn.query("commit")
            return settingsWaited
        }
        try await Poll.until("the costs' rows to be held", timeout: .seconds(30), interval: .milliseconds(5)) {
            costsHeld.value.load(ordering: .acquiring)
        }
        async let applied: Void = apply(providers: kling)
        try await Poll.until("the settings to wait", timeout: .seconds(30), interval: .milliseconds(5)) {
            settingsWaiting.value.load(ordering: .acquiring)
        }
        func claimAndSay() async throws -> [ClaimedJob] {
            defer { claimDone.value.store(true, ordering: .releasing) }
            return try await claim(limit: 4)
        }
        async let claimed = claimAndSay()
        #expect(try await holder, "apply_settings waited for the costs' rows")
        try await applied
        _ = try await claimed
        // Whether the claim passed over the lane the settings held or served it, every job runs.
        _ = try await claim(limit: 4)
        #expect(try await running(user: u) == 4)
    }

    /// A throttled failure throttles its provider and makes its lane due again (its retry): it
    /// locks the lane's row before the provider's, the order a claim takes, which holds lanes
    /// while it waits for providers' rows. In the other order the two could deadlock.
    @Test func aThrottledFailureLocksItsLaneBeforeItsProvider() async throws {
        let (u, jobs) = try await claimedOnKling(1)
        let laneHeld = Flag()
        async let holder: (waited: Bool, providerFree: Bool) = database.withConnection { conn in
            try conn.query("begin")
            try conn.query("select from reeld.lanes where user_id = $1::uuid and job_class = 'video' for update", [u])
            laneHeld.value.store(true, ordering: .releasing)
            let waited = try Self.waitForALockWaiter(conn)
            // The failure waits for the lane's row: it must not hold the provider's yet.
            let providerFree: Bool
            do {
                try conn.query("select from reeld.providers where name = 'kling' for update nowait")
                providerFree = true
            } catch let error as DatabaseError where error.sqlState == "55P03" {
                providerFree = false
            }
            try conn.query("rollback")
            return (waited, providerFree)
        }
        try await Poll.until("the lane's row to be held", timeout: .seconds(30), interval: .milliseconds(5)) {
            laneHeld.value.load(ordering: .acquiring)
        }
        async let failed = queue.fail(jobs[0].lease, error: JobError("429", class: .throttled, retryAfter: .seconds(5)), delay: .zero)
        let seen = try await holder
        #expect(seen.waited, "the failure waited for the lane's row")
        #expect(seen.providerFree, "the failure locked the provider's row before the lane's")
        #expect(try await failed == .retryable)
    }

    @Test func a429ThrottlesTheProviderOnEveryNodeUntilRetryAfterWithoutSpendingTheAttempt() async throws {
        try await apply()
        let u = try await user()
        let first = try await submit(u, provider: "kling")
        let job = try #require(try await claim("node-a").first { $0.id == first })
        try await backlog(u, 5, provider: "kling")
        let unrelated = try await submit(u, .audio, provider: "local")
        let state = try await queue.fail(job.lease,
                                         error: JobError("429 Too Many Requests", class: .throttled, retryAfter: .seconds(30)),
                                         delay: .seconds(30))
        #expect(state == .retryable)
        // Another node: nothing of kling's starts, other providers' jobs do.
        #expect(try await claim("node-b").map(\.id) == [unrelated])
        clock.advance(by: .seconds(29))
        #expect(try await claim("node-b").isEmpty)
        clock.advance(by: .seconds(2))
        let again = try await claim("node-b")
        #expect(again.count == 6)
        #expect(again.first { $0.id == first }?.attempt == 1, "a throttled attempt is not spent")
    }

    @Test func a429WithoutRetryAfterBacksOffLongerEachTime() async throws {
        try await apply()
        let u = try await user()
        try await backlog(u, 3, provider: "kling")
        var windows: [Double] = []
        for _ in 0..<3 {
            let job = try #require(try await claim(limit: 1).first)
            try await queue.fail(job.lease, error: JobError("429", class: .throttled), delay: .zero)
            let until = try await database.query(
                "select extract(epoch from throttled_until)::double precision as t from reeld.providers where name = 'kling'")[0].double("t")
            windows.append(until - clock.now()!.timeIntervalSince1970)
            clock.advance(by: .seconds(Int64(until - clock.now()!.timeIntervalSince1970) + 1))
        }
        #expect(windows.map { $0.rounded() } == [10, 20, 40])
    }

    @Test func aScheduledJobMakesItsLaneDueAtItsTime() async throws {
        try await apply()
        let u = try await user()
        let later = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 1, "class": "video"], userID: u,
                                                         runAt: clock.now()!.addingTimeInterval(60))).jobID
        #expect(try await claim().isEmpty)
        let next = try #require(try await queue.nextClaimAt())
        #expect(abs(next.timeIntervalSince(clock.now()!) - 60) < 0.01)
        clock.advance(by: .seconds(60))
        #expect(try await claim().map(\.id) == [later])
        #expect(try await queue.nextClaimAt() == nil)
    }

    @Test func aRetriedJobReturnsToItsLane() async throws {
        try await apply()
        let u = try await user()
        let id = try await submit(u)
        _ = try await claim()
        _ = try await queue.fail(queue.lease(of: id), error: JobError("flaky"), delay: .seconds(5))
        #expect(try await claim().isEmpty)
        clock.advance(by: .seconds(6))
        #expect(try await claim().map(\.id) == [id])
    }

    @Test func settingsAreOneTruthForAllNodesAndReapplyingChangesNothing() async throws {
        try await apply(.init(concurrent: 3, perMinute: 30), providers: ["kling": .init(concurrent: 4, perMinute: 60)])
        let lanes = try await database.query("select * from reeld.tier_limits order by tier, job_class").count
        try await apply(.init(concurrent: 3, perMinute: 30), providers: ["kling": .init(concurrent: 4, perMinute: 60)])
        #expect(try await database.query("select * from reeld.tier_limits order by tier, job_class").count == lanes)
        let kling = try await database.query("select max_running, per_minute from reeld.providers where name = 'kling'")[0]
        #expect(try kling.int("max_running") == 4)
        // A later node without kling's limits lifts them (its throttle state stays).
        try await apply(.init(concurrent: 3, perMinute: 30))
        #expect(try await database.query("select max_running from reeld.providers where name = 'kling'")[0].optionalInt("max_running") == nil)
        // A lane's limits follow the settings and the subscription.
        let u = try await user()
        try await submit(u)
        try await apply(.init(concurrent: 5, perMinute: 50))
        #expect(try await database.query("select max_running from reeld.lanes where user_id = $1::uuid", [u])[0].int("max_running") == 5)
        try await database.query("update subscriptions set tier = 'enterprise', limits = '{\"concurrent\": {\"video\": 9}}' where user_id = $1::uuid", [u])
        #expect(try await database.query("select max_running from reeld.lanes where user_id = $1::uuid", [u])[0].int("max_running") == 9)
    }
}

/// A flag one thread raises and another polls.
private final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}
