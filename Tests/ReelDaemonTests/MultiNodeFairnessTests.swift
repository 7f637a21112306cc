import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Synchronization
import Testing

extension ProcessTests.MultiNodeFairnessTests {
    /// Limits small enough to bind within seconds.
    static let tiers: [Tier: (concurrent: [JobClass: Int], perMinute: [JobClass: Int])] = [
        .free: ([.textImage: 2, .video: 1, .audio: 2, .render: 1], [.textImage: 30, .video: 600, .audio: 600, .render: 600]),
        .pro: ([.textImage: 3, .video: 2, .audio: 2, .render: 1], [.textImage: 600, .video: 600, .audio: 600, .render: 600]),
        .enterprise: ([.textImage: 5, .video: 3, .audio: 3, .render: 2], [.textImage: 600, .video: 600, .audio: 600, .render: 600]),
    ]
    static let providers: [String: (concurrent: Int?, perMinute: Int?)] = ["kling": (3, 60), "eleven": (2, nil)]

    /// The tables beyond what `ReeldProcess.Settings` writes: tiers, provider limits, the sleep's cost.
    static var limitsConfig: String {
        func table(_ values: [JobClass: Int]) -> String {
            "{ " + JobClass.limited.map { "\($0.rawValue) = \(values[$0]!)" }.joined(separator: ", ") + " }"
        }
        var text = "[costs.\"system.sleep\"]\nestimate = 3\n"
        for (name, limit) in providers.sorted(by: { $0.key < $1.key }) {
            text += "[providers.limits.\(name)]\n"
            if let c = limit.concurrent { text += "concurrent = \(c)\n" }
            if let r = limit.perMinute { text += "per_minute = \(r)\n" }
        }
        for tier in Tier.allCases {
            text += "[tiers.\(tier.rawValue)]\nconcurrent = \(table(tiers[tier]!.concurrent))\nper_minute = \(table(tiers[tier]!.perMinute))\n"
        }
        return text
    }

    /// What the sampler saw, shared with the test while both run.
    final class Observations: Sendable {
        let stop = Atomic<Bool>(false)
        let breaches = Mutex<[Breach]>([])
        let owners = Mutex<Set<String>>([])
        let samples = Atomic<Int>(0)
    }

    struct Breach: CustomStringConvertible, Sendable {
        var what: String
        var running: Int
        var limit: Int
        var description: String { "\(what): \(running) running, limit \(limit)" }
    }

    @Test(.timeLimit(.minutes(2))) func threeNodesKeepEveryLimitServeLightUsersAtOnceAndBalanceTheLedger() async throws {
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 4), logger: TestDatabase.logger)
        defer { database.close() }
        let queue = JobQueue(database: database)
        let directory = try TemporaryDirectory(prefix: "reeld-fair")
        defer { directory.remove() }

        // Users: per tier a heavy one with a backlog and a light one with single jobs.
        var tierOf: [UUID: Tier] = [:]
        var heavy: [Tier: UUID] = [:], light: [Tier: UUID] = [:]
        for tier in Tier.allCases {
            for role in ["heavy", "light"] {
                let id = try await database.query(
                    "insert into auth.users (email) values ($1) returning id", ["\(role)-\(tier.rawValue)@test"])[0].uuid("id")
                try await database.query("insert into subscriptions (user_id, tier) values ($1::uuid, $2::public.tier)", [id, tier.rawValue])
                _ = try await CreditLedger(database: database).purchase(user: id, credits: 100_000)
                tierOf[id] = tier
                if role == "heavy" { heavy[tier] = id } else { light[tier] = id }
            }
        }

        // Nodes first: each writes the same settings (tiers, provider limits, the sleep's cost).
        // A failing test still ends them: ChildProcess kills and reaps on deinit.
        var nodes: [ReeldProcess] = []
        let workers = 6
        for index in 1...3 {
            var settings = ReeldProcess.Settings(nodeName: "fair-\(index)", databaseURL: url, directory: directory.appending("fair-\(index)"))
            settings.workers = workers
            settings.leaseSeconds = 30
            settings.heartbeatSeconds = 2
            settings.rescueIntervalSeconds = 15
            settings.extraConfig = Self.limitsConfig
            nodes.append(try ReeldProcess(settings, label: "fair-\(index)"))
        }
        for node in nodes { try await node.waitUntilReady() }
        try await eventually("the nodes wrote their settings", timeout: .seconds(20), nodes: nodes) {
            try await database.query("select estimate from reeld.costs where kind = 'system.sleep'").first?.int("estimate") == 3
        }

        // Backlogs: thousands of short jobs per heavy user, over the classes and providers.
        for (tier, user) in heavy.sorted(by: { $0.key < $1.key }) {
            try await database.query(
                """
                select count(*) from (
                    select reeld.submit_job('system.sleep', jsonb_strip_nulls(jsonb_build_object(
                        'seconds', 0.05 + (g % 4) * 0.05,
                        'class', (array['text_image', 'video', 'audio', 'render'])[1 + g % 4],
                        'provider', (array['kling', 'eleven', null])[1 + g % 3])), $1::uuid)
                    from generate_series(1, $2::int) g) submitted
                """, [user, tier == .enterprise ? 1200 : 1500])
        }

        let observed = Observations()
        let limits = Self.tiers
        let tierOfUser = tierOf
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !observed.stop.load(ordering: .relaxed) {
                    let rows = try await database.query(
                        """
                        select 'lane' as k, user_id::text as who, job_class as what, count(*)::int as n, string_agg(distinct lease_owner, ',') as owners
                        from jobs where lease_owner is not null and user_id is not null group by user_id, job_class
                        union all
                        select 'provider', provider, '', count(*)::int, '' from jobs
                        where lease_owner is not null and provider is not null group by provider
                        """)
                    for row in rows {
                        let n = try row.int("n")
                        if try row.string("k") == "lane" {
                            let user = UUID(text: try row.string("who"))!
                            let jobClass = JobClass(rawValue: try row.string("what"))!
                            let limit = limits[tierOfUser[user]!]!.concurrent[jobClass]!
                            if n > limit { observed.breaches.withLock { $0.append(Breach(what: "\(tierOfUser[user]!) user \(jobClass)", running: n, limit: limit)) } }
                            let seen = (try row.optionalString("owners") ?? "").split(separator: ",").map(String.init)
                            observed.owners.withLock { $0.formUnion(seen) }
                        } else {
                            let provider = try row.string("who")
                            if let limit = Self.providers[provider]?.concurrent, n > limit {
                                observed.breaches.withLock { $0.append(Breach(what: "provider \(provider)", running: n, limit: limit)) }
                            }
                        }
                    }
                    observed.samples.add(1, ordering: .relaxed)
                    try await Task.sleep(for: .milliseconds(20))
                }
            }

            // Let the backlogs flow, then a light user's job per tier: it starts at once, not after them.
            try await Task.sleep(for: .seconds(4))
            for tier in Tier.allCases {
                let job = try await queue.submit(JobSubmission(
                    kind: .sleep, args: ["seconds": 0.05, "class": "video"], userID: light[tier]!)).jobID
                // A moment after the submit committed, by the database's clock.
                let committed = try await database.query("select extract(epoch from clock_timestamp())::double precision as t")[0].double("t")
                try await eventually("\(tier) light user's job started", timeout: .seconds(10), nodes: nodes) {
                    try await database.query("select attempted_at is not null as started from jobs where id = $1::uuid", [job])[0].bool("started")
                }
                let timing = try await database.query(
                    """
                    select extract(epoch from attempted_at - created_at)::double precision as wait,
                           (select count(distinct o.attempted_at) from jobs o
                            where o.user_id <> j.user_id and o.attempted_at > to_timestamp($3::double precision)
                              and o.attempted_at < j.attempted_at) as claims_between,
                           (select count(*) from jobs o
                            where o.user_id <> j.user_id and o.attempted_at > to_timestamp($3::double precision)
                              and o.attempted_at < j.attempted_at) as jobs_between,
                           (select count(*) from jobs b where b.user_id = $2::uuid and b.state in ('available', 'retryable')) as backlog
                    from jobs j where j.id = $1::uuid
                    """, [job, heavy[tier]!, committed])[0]
                // One claim round: a claim that begins after the submit committed looks at the
                // light lane first (it was never served); it takes the job unless another node's
                // claim holds the lane, which then takes it. So at most one claim per other node
                // starts in between, and those claims take at most a batch each (a node claims
                // no more than its free workers): counted in claims and jobs, not seconds, so a
                // loaded machine cannot fail it and a light job queued behind the backlogs can.
                let between = try timing.int("claims_between"), jobsBetween = try timing.int("jobs_between")
                let wait = try timing.double("wait")
                #expect(between <= nodes.count - 1, "\(tier) light job waited \(between) claims (\(wait) s)")
                #expect(jobsBetween <= (nodes.count - 1) * workers, "\(tier) light job waited for \(jobsBetween) other jobs to start (\(wait) s)")
                #expect(try timing.int("backlog") > 100, "the heavy \(tier) user still had a backlog")
            }
            try await Task.sleep(for: .seconds(6))
            observed.stop.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        // SIGTERM to all at once; each stops claiming, finishes its jobs and exits well within
        // its shutdown grace (5 s).
        for node in nodes { node.process.send(SIGTERM) }
        for node in nodes {
            let exit = try await node.process.waitForExit(timeout: .seconds(30))
            #expect(exit == .exited(0), "\(node.process.label) ended with \(exit)\n\(node.process.stderrTail())")
        }

        #expect(observed.breaches.withLock { $0 }.isEmpty, "limits exceeded: \(observed.breaches.withLock { $0.prefix(10) })")
        #expect(observed.samples.load(ordering: .relaxed) > 100)
        #expect(observed.owners.withLock { $0.count } == 3, "all three nodes ran jobs: \(observed.owners.withLock { $0 })")

        // Rates: in any stretch of claims, no more than a full bucket (a minute's worth) plus
        // what the bucket refilled in between. Each job here was claimed once, at attempted_at.
        var rateChecks = 0
        for (tier, user) in heavy {
            for jobClass in JobClass.limited {
                let perMinute = Self.tiers[tier]!.perMinute[jobClass]!
                let times = try await database.query(
                    "select extract(epoch from attempted_at)::double precision as t from jobs where user_id = $1::uuid and job_class = $2 and attempted_at is not null order by 1",
                    [user, jobClass.rawValue]).map { try $0.double("t") }
                rateChecks += 1
                if let breach = Self.rateBreach(times, perMinute: perMinute) { Issue.record("\(tier) \(jobClass): \(breach)") }
            }
        }
        for (name, limit) in Self.providers {
            guard let perMinute = limit.perMinute else { continue }
            let times = try await database.query(
                "select extract(epoch from attempted_at)::double precision as t from jobs where provider = $1 and attempted_at is not null and user_id is not null order by 1",
                [name]).map { try $0.double("t") }
            #expect(times.count > perMinute, "provider \(name)'s rate was reached")
            if let breach = Self.rateBreach(times, perMinute: perMinute) { Issue.record("provider \(name): \(breach)") }
        }
        let freeTextImage = try await database.query(
            "select count(*) as n from jobs where user_id = $1::uuid and job_class = 'text_image' and attempted_at is not null", [heavy[.free]!])[0].int("n")
        #expect(freeTextImage < 30 + 30, "the free tier's 30 a minute held its text_image jobs back (\(freeTextImage) started)")
        #expect(rateChecks == 12)

        // Cancel what is left; then every job's reserve is captured or released, and every
        // balance equals grants + purchases − captures.
        let left = try await database.query("select id from jobs where state not in ('completed', 'failed', 'cancelled')").map { try $0.uuid("id") }
        _ = try await queue.cancel(jobs: left)
        let unfinished = try await database.query(
            "select id, state::text as state, lease_owner, attempt from jobs where state not in ('completed', 'cancelled')"
        ).map { "\(try $0.string("id")) \(try $0.string("state")) owner \(try $0.optionalString("lease_owner") ?? "-") attempt \(try $0.int("attempt"))" }
        let logs = nodes.map { "[\($0.process.label)]\n\($0.process.stderrTail())" }.joined(separator: "\n")
        #expect(unfinished.isEmpty, "jobs left unfinished after the nodes stopped: \(unfinished)\n\(logs)")
        let unbalancedJobs = try await database.query(
            """
            select j.id from jobs j left join credit_transactions t on t.job_id = j.id
            group by j.id, j.credits_reserved
            having coalesce(sum(t.amount) filter (where t.type = 'reserve'), 0) <> j.credits_reserved
                or coalesce(sum(t.amount) filter (where t.type = 'reserve'), 0)
                   <> coalesce(sum(t.amount) filter (where t.type in ('capture', 'release')), 0)
            """)
        #expect(unbalancedJobs.isEmpty, "jobs whose reserve is not captured + released: \(unbalancedJobs.count)")
        let accounts = try await database.query(
            """
            select s.user_id, s.credits_balance, s.credits_reserved,
                   coalesce(sum(t.amount) filter (where t.type in ('grant', 'purchase')), 0)
                   - coalesce(sum(t.amount) filter (where t.type = 'capture'), 0) as expected,
                   count(*) filter (where t.type = 'capture') as captures
            from subscriptions s left join credit_transactions t on t.user_id = s.user_id
            group by s.user_id, s.credits_balance, s.credits_reserved
            """)
        #expect(accounts.count == 6)
        for row in accounts {
            #expect(try row.int("credits_reserved") == 0)
            #expect(try row.int("credits_balance") == (try row.int("expected")))
        }
        #expect(try accounts.map { try $0.int("captures") }.reduce(0, +) > 100)
    }

    /// Checks claim times against a token bucket of `perMinute` that starts full: for every
    /// i ≤ j, claims i…j number at most perMinute + perMinute × (t_j − t_i) / 60.
    static func rateBreach(_ times: [Double], perMinute: Int) -> String? {
        let capacity = Double(perMinute), rate = Double(perMinute) / 60
        // 0.1 s of slack: claims on different nodes take their time when their transactions
        // begin, which may be a few milliseconds before the bucket they took from was refilled.
        for j in times.indices {
            for i in 0...j where Double(j - i + 1) > capacity + rate * (times[j] - times[i] + 0.1) {
                return "\(j - i + 1) claims in \(times[j] - times[i]) s, more than \(perMinute) a minute allows"
            }
        }
        return nil
    }

    /// Polls until `condition` holds; fails naming `what`, with the nodes' logs, at `timeout`,
    /// or at once if a node has exited.
    func eventually(_ what: String, timeout: Duration, nodes: [ReeldProcess], _ condition: () async throws -> Bool) async throws {
        try await Poll.until(what, timeout: timeout, interval: .milliseconds(20),
                             context: { nodes.map { "[\($0.process.label)]\n\($0.process.stderrTail())" }.joined(separator: "\n") }) {
            if let ended = nodes.first(where: { $0.process.termination != nil }) {
                throw ChildProcess.Failure("\(ended.process.label) exited while waiting for \(what)\n\(ended.process.stderrTail())")
            }
            return try await condition()
        }
    }
}
