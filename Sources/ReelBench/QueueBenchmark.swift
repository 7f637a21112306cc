import Foundation
import Logging
import ReelCore
import ReelDB
import ReelQueue
import Synchronization

/// `reeld bench queue`: drain throughput of no-op jobs and pickup latency on an idle queue,
/// against a real PostgreSQL (a throwaway cluster unless a URL is given).
///
/// With `fair`, it drains twice: system jobs (no user: the unlimited path), then the same
/// number of users' jobs through the fair claim, with every tier, lane and provider limit
/// checked and counted but set high enough not to bind, so that the figure is the cost of the
/// fairness machinery and not of a limit. It prints both figures and their ratio.
///
/// With `rounds` above one it repeats the drains, alternating unlimited and fair (and which of
/// the two goes first), and prints the medians: a shared machine's speed drifts by tens of
/// percent within minutes, so one drain of each can compare a fast spell with a slow one.
public struct QueueBenchmark: Sendable {
    public var jobs: Int
    public var workers: Int
    public var batch: Int
    public var latencySamples: Int
    public var fair: Bool
    /// Users the fair drain spreads its jobs over, across all tiers, four job classes and two providers.
    public var users: Int
    /// Drains of each kind, alternated.
    public var rounds: Int
    /// Claims in flight at once (QueueWorker.Configuration.claimers).
    public var claimers: Int

    public init(jobs: Int, workers: Int, batch: Int, latencySamples: Int, fair: Bool = false, users: Int = 1000, rounds: Int = 1, claimers: Int = 2) {
        self.jobs = jobs
        self.workers = workers
        self.batch = batch
        self.latencySamples = latencySamples
        self.fair = fair
        self.users = max(1, users)
        self.rounds = max(1, rounds)
        self.claimers = max(1, claimers)
    }

    /// Runs the measurements and prints the figures.
    public func run(url: String, logger: Logger) async throws {
        // A connection per claim in flight, and room for the completions and the heartbeat.
        let database = Database(configuration: .init(url: url, maxConnections: claimers + 4), logger: logger)
        defer { database.close() }
        let queue = JobQueue(database: database)
        print("queue benchmark: \(jobs) no-op jobs, \(workers) workers, claim batch \(batch), \(claimers) claims in flight")
        var unlimited: [Double] = []
        var withFairness: [Double] = []
        for round in 1...rounds {
            if rounds > 1 { print("round \(round) of \(rounds)") }
            // Pickup latency once, after the last drain: it takes seconds and does not drift.
            let last = round == rounds
            guard fair else {
                unlimited.append(try await drain(fair: false, url: url, queue: queue, logger: logger, measureLatency: last))
                continue
            }
            // Odd rounds drain unlimited first, even rounds fair first: the second drain of a
            // round runs on a machine that has just worked for seconds, and whatever that costs
            // (or saves), a fixed order would put on one side only.
            for isFair in round % 2 == 1 ? [false, true] : [true, false] {
                let figure = try await drain(fair: isFair, url: url, queue: queue, logger: logger, measureLatency: isFair && last)
                if isFair { withFairness.append(figure) } else { unlimited.append(figure) }
            }
            print(String(format: "  fair / unlimited   %8.1f %%", 100 * withFairness[round - 1] / unlimited[round - 1]))
        }
        guard rounds > 1 else { return }
        print(String(format: "median of %d rounds", rounds))
        print(String(format: "  unlimited drain    %8.0f jobs/s   (%.0f–%.0f)", unlimited.median, unlimited.min()!, unlimited.max()!))
        guard fair else { return }
        let ratios = zip(withFairness, unlimited).map { 100 * $0 / $1 }
        print(String(format: "  fair drain         %8.0f jobs/s   (%.0f–%.0f)", withFairness.median, withFairness.min()!, withFairness.max()!))
        print(String(format: "  fair / unlimited   %8.1f %%        (%.1f–%.1f, ratio of each round's pair)", ratios.median, ratios.min()!, ratios.max()!))
    }

    /// One drain of `jobs` jobs; returns jobs per second.
    private func drain(fair: Bool, url: String, queue: JobQueue, logger: Logger, measureLatency: Bool) async throws -> Double {
        let database = queue.database
        try await database.query("truncate public.jobs cascade")
        // The running counters start again with the lanes. Truncated, not deleted: deleted, the
        // last drain's counter rows would stay behind as dead versions of the same keys, which
        // the next fair drain's upserts would pass over until a vacuum came by.
        try await database.query("truncate reeld.lanes, reeld.lane_ends, reeld.provider_ends")
        try await database.query("update reeld.providers set started = 0")
        try await database.query("vacuum reeld.providers")
        var users: [UUID] = []
        if fair {
            users = try await makeUsers(queue: queue)
        }
        let (starts, startsContinuation) = AsyncStream.makeStream(of: (UUID, ContinuousClock.Instant).self)
        let measuringLatency = Atomic<Bool>(false)
        var handlers = HandlerRegistry()
        // The handler records when it starts: pickup latency is submit → handler start.
        handlers.register(.noop, ClosureHandler { job, _ in
            if measuringLatency.load(ordering: .relaxed) { startsContinuation.yield((job.id, .now)) }
            return .completed(.null)
        })
        let worker = QueueWorker(
            queue: queue, handlers: handlers,
            configuration: .init(owner: "bench:\(getpid())", workers: workers, claimBatch: batch, claimers: claimers),
            listenURL: url, logger: logger)

        // Enqueue: one statement, outside the measurement (the benchmark is about draining).
        let enqueueStart = ContinuousClock.now
        if fair {
            // Each user's backlog submitted at once (as a user submits a batch), over the four
            // classes and two providers: with 1000 users, 4000 lanes of 25 jobs.
            try await database.query(
                """
                insert into public.jobs (kind, max_attempts, user_id, job_class, provider)
                select 'system.noop', 3, ($2::uuid[])[1 + (g::bigint * cardinality($2::uuid[]) / $1::int)],
                       (array['text_image', 'video', 'audio', 'render'])[1 + g % 4],
                       (array['bench-a', 'bench-b'])[1 + (g / 4) % 2]
                from generate_series(0, $1::int - 1) g
                """, [jobs, SQLArray(users)])
        } else {
            try await database.query(
                "insert into public.jobs (kind, max_attempts) select 'system.noop', 3 from generate_series(1, $1::int)", [jobs])
        }
        let enqueueTime = ContinuousClock.now - enqueueStart
        // A bulk load is exactly when statistics are stale; autovacuum would catch up within
        // seconds, the benchmark should not measure that.
        try await database.query("analyze public.jobs")
        // The load raised each lane's depth once per job, leaving a dead version each time.
        try await database.query("vacuum analyze reeld.lanes")
        let label = fair ? "fair (\(users.count) users, \(try await laneCount(database)) lanes)" : "unlimited (system jobs)"
        print("  \(label)")
        print(String(format: "    enqueue          %8.0f jobs/s (one INSERT … SELECT, not part of the drain figure)",
                     Double(jobs) / enqueueTime.seconds))

        let throughput = try await withThrowingTaskGroup(of: Void.self) { group in
            let drainStart = ContinuousClock.now
            group.addTask { try await worker.run() }
            while worker.stats.completed < jobs {
                try await Task.sleep(for: .milliseconds(5))
            }
            let drain = ContinuousClock.now - drainStart
            let throughput = Double(jobs) / drain.seconds
            print(String(format: "    drain            %8.0f jobs/s (%.2f s for %d jobs)", throughput, drain.seconds, jobs))

            if measureLatency {
                // Pickup latency: the queue is idle and the worker waits on LISTEN; one job at a time.
                measuringLatency.store(true, ordering: .relaxed)
                var iterator = starts.makeAsyncIterator()
                var samples: [Double] = []
                try await Task.sleep(for: .milliseconds(200))
                for index in 0..<latencySamples {
                    let submitted = ContinuousClock.now
                    let user = users.isEmpty ? nil : users[index % users.count]
                    let id = try await queue.submit(JobSubmission(kind: .noop, args: fair ? ["class": "text_image"] : [:], userID: user)).jobID
                    while let (started, at) = await iterator.next() {
                        if started == id {
                            samples.append((at - submitted).seconds * 1000)
                            break
                        }
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
                samples.sort()
                let p = { (q: Double) in samples[min(samples.count - 1, Int(Double(samples.count) * q))] }
                print(String(format: "    pickup latency   p50 %.2f ms   p99 %.2f ms   max %.2f ms  (%d samples, submit → handler start)",
                             p(0.5), p(0.99), samples.last ?? 0, samples.count))
            }
            group.cancelAll()
            return throughput
        }
        startsContinuation.finish()
        return throughput
    }

    /// `users` users spread over the three tiers, every limit high enough not to bind.
    private func makeUsers(queue: JobQueue) async throws -> [UUID] {
        let generous = QueueSettings.Limit(concurrent: 100_000, perMinute: 10_000_000)
        var settings = QueueSettings(providerLimits: ["bench-a": generous, "bench-b": generous])
        for tier in Tier.allCases {
            settings.tiers[tier]?.classes = Dictionary(uniqueKeysWithValues: JobClass.limited.map { ($0, generous) })
        }
        try await queue.apply(settings)
        return try await queue.database.query(
            """
            with made as (
                insert into auth.users (email)
                select 'bench-' || g || '@reeld.local' from generate_series(1, $1::int) g
                on conflict (email) do update set email = excluded.email
                returning id
            ), tiered as (
                insert into public.subscriptions (user_id, tier)
                select id, (array['free', 'pro', 'enterprise'])[1 + row_number() over (order by id) % 3]::public.tier from made
                on conflict (user_id) do update set tier = excluded.tier
                returning user_id
            )
            select user_id as id from tiered order by user_id
            """, [users]
        ).map { try $0.uuid("id") }
    }

    private func laneCount(_ database: Database) async throws -> Int {
        try await database.query("select count(*) as n from reeld.lanes")[0].int("n")
    }
}
