import Foundation
import Glibc
import ReelCore
import ReelDB
import ReelLocalCluster
import ReelQueue
import ReelTestSupport
import Testing

extension ProcessTests.ChaosTests {
    /// Three nodes on one database of their own, thousands of jobs, nodes SIGKILLed and SIGTERMed
    /// at random moments and started again, the database restarted once, a running job's row held
    /// locked for longer than a lease. Afterwards every job ended exactly once, no reserve is
    /// left, every balance equals its ledger, no running count leaked, no live node's job was
    /// rescued, and every node was claiming again within 5 s of the database's start.
    @Test(.timeLimit(.minutes(30))) func nodesKilledStoppedAndADatabaseRestartEndEveryJobOnceAndBalanceTheLedger() async throws {
        let plan = ChaosPlan.fromEnvironment()
        print("chaos: \(plan)")
        var rng = SeededRandom(seed: plan.seed)
        let began = Date()
        var figures = ChaosFigures()

        // A cluster of its own: the test stops and starts it, which the suite's shared one must never see.
        let directory = try TemporaryDirectory(prefix: "reeld-chaos")
        let cluster = LocalCluster(directory: directory.appending("pg"), databaseName: "chaos")
        try cluster.start()
        defer {
            try? cluster.stop()
            // REELD_CHAOS_KEEP keeps the nodes' logs and the database (postgres.log) to read.
            if ProcessInfo.processInfo.environment["REELD_CHAOS_KEEP"] == nil {
                directory.remove()
            } else {
                print("chaos: kept \(directory.path)")
            }
        }
        let url = cluster.url()
        try Migrator(directory: TestDatabase.migrationsDirectory, logger: TestDatabase.logger).migrate(url: url)
        let database = Database(configuration: .init(url: url, maxConnections: 4), logger: TestDatabase.logger)
        defer { database.close() }
        try await JobTransitionLog.install(on: database)
        var workload = try await ChaosWorkload.makeUsers(database)

        var nodes = ChaosNodes(settings: (1...plan.nodes).map { index in
            var settings = ReeldProcess.Settings(nodeName: "chaos-\(index)", databaseURL: url, directory: directory.appending("node-\(index)"))
            settings.workers = plan.workers
            settings.leaseSeconds = plan.leaseSeconds
            settings.heartbeatSeconds = plan.heartbeatSeconds
            settings.rescueIntervalSeconds = plan.rescueIntervalSeconds
            settings.shutdownGraceSeconds = plan.shutdownGraceSeconds
            settings.extraConfig = ChaosWorkload.limitsConfig
            return settings
        })
        // Whatever happens, no node outlives the test (ChildProcess also kills on deinit).
        defer { for incarnation in nodes.incarnations { incarnation.node.process.killAndReap() } }
        for slot in nodes.slots { try nodes.start(slot) }
        for node in nodes.running { try await node.waitUntilReady() }
        let failureContext = { [plan] (nodes: ChaosNodes) in "\(plan)\n\(nodes.logs())" }

        let lockedKey = "chaos-locked"
        var cancelRequested = Set<UUID>()
        let waves = (start: plan.jobs / 4, chaos: plan.jobs / 5, lock: plan.jobs / 10, backlog: plan.jobs / 6)
        let later = plan.jobs - waves.start - waves.chaos - waves.lock - waves.backlog
        _ = try await workload.submit(waves.start, pace: .mixed, rng: &rng, database: database)

        // Phase 1: half the kills and stops, jobs arriving between them.
        let firstHalf = plan.events / 2
        for event in 0..<firstHalf {
            _ = try await workload.submit(waves.chaos / max(1, firstHalf), pace: .mixed, rng: &rng, database: database)
            try await chaosEvent(plan: plan, rng: &rng, nodes: &nodes, figures: &figures, context: failureContext)
            if event % 2 == 0 {
                cancelRequested.formUnion(try await cancelSome(database, rng: &rng, deadlocks: &workload.deadlocks))
            }
        }

        // Phase 2: every node up; a running job's row locked for longer than a lease while its
        // node goes on with other work.
        try await startMissing(&nodes, context: failureContext)
        let lockedJob = try await JobQueue(database: database).submit(JobSubmission(
            kind: .sleep, args: ["seconds": .double(Double(plan.leaseSeconds * 3))], idempotencyKey: lockedKey)).jobID
        var lockOwner = ""
        try await Poll.until("the job to lock to be running", timeout: .seconds(60), context: { failureContext(nodes) }) {
            lockOwner = try await database.query(
                "select lease_owner from public.jobs where id = $1::uuid and state = 'running'", [lockedJob]).first?.optionalString("lease_owner") ?? ""
            return !lockOwner.isEmpty
        }
        // Work for the nodes while the row is locked, the locked job's node included.
        _ = try await workload.submit(waves.lock, pace: .backlog, rng: &rng, database: database)
        let locker = try PostgresConnection(url: url)
        try locker.execute("begin")
        let lockStart = try locker.query(
            "select extract(epoch from clock_timestamp())::double precision as t from public.jobs where id = $1::uuid for update", [lockedJob]
        )[0].double("t")
        try await Task.sleep(for: plan.lockHold)
        figures.lockOwnerLapsedLeases = try await database.query(
            """
            select count(*)::int as n from public.jobs
            where lease_owner = $1 and id <> $2::uuid and lease_expires_at < clock_timestamp()
            """, [lockOwner, lockedJob])[0].int("n")
        // Its heartbeat passes over the locked row and keeps extending the rest.
        #expect(figures.lockOwnerLapsedLeases == 0,
                "\(figures.lockOwnerLapsedLeases) other leases of the locked job's node lapsed\n\(failureContext(nodes))")
        let lockEnd = try locker.query("select extract(epoch from clock_timestamp())::double precision as t")[0].double("t")
        try locker.execute("commit")
        figures.lockHeld = lockEnd - lockStart
        figures.lockOwnerCompletionsWhileLocked = try await database.query(
            """
            select count(*)::int as n from chaos.transitions
            where old_owner = $1 and to_state = 'completed'
              and at between to_timestamp($2::double precision) and to_timestamp($3::double precision)
            """, [lockOwner, lockStart, lockEnd])[0].int("n")
        #expect(figures.lockOwnerCompletionsWhileLocked > 0,
                "the node whose job's row was locked completed nothing else meanwhile\n\(failureContext(nodes))")

        // Phase 3: the database restarts under a backlog; every node claims again soon after.
        try await startMissing(&nodes, context: failureContext)
        _ = try await workload.submit(waves.backlog, pace: .backlog, rng: &rng, database: database)
        let owners = nodes.running.map(\.owner)
        try await Poll.until("every node to be running jobs of the backlog", timeout: .seconds(60), context: { failureContext(nodes) }) {
            try await database.query(
                "select count(distinct lease_owner)::int as n from public.jobs where lease_owner = any($1::text[])", [SQLArray(owners)]
            )[0].int("n") == owners.count
        }
        let downtime = rng.seconds(plan.downtime)
        let stoppedAt = Date()
        try cluster.stop()
        try await Task.sleep(for: downtime)
        try cluster.start()
        figures.downtime = Date().timeIntervalSince(stoppedAt)
        let restartedAt = try await persistently("read the database's start time") {
            try await database.query("select extract(epoch from pg_postmaster_start_time())::double precision as t")[0].double("t")
        }
        try await Poll.until("every node to claim again after the database's restart", timeout: .seconds(60),
                             context: { failureContext(nodes) }) {
            let rows = try await persistently("read the claims after the restart") {
                try await database.query(
                    """
                    select new_owner, extract(epoch from min(at))::double precision - $2::double precision as after
                    from chaos.transitions
                    where to_state = 'running' and new_owner = any($1::text[]) and at >= to_timestamp($2::double precision)
                    group by new_owner
                    """, [SQLArray(owners), restartedAt])
            }
            for row in rows { figures.backAtWork[try row.string("new_owner")] = try row.double("after") }
            return rows.count == owners.count
        }
        try await Poll.until("a job to complete after the database's restart", timeout: .seconds(30), context: { failureContext(nodes) }) {
            figures.firstCompletionAfterRestart = try await database.query(
                """
                select extract(epoch from min(at))::double precision - $1::double precision as after
                from chaos.transitions where to_state = 'completed' and at >= to_timestamp($1::double precision)
                """, [restartedAt])[0].optionalDouble("after")
            return figures.firstCompletionAfterRestart != nil
        }
        for (owner, after) in figures.backAtWork {
            #expect(after < plan.backAtWorkBound, "\(owner) claimed again only \(after) s after the database's start\n\(failureContext(nodes))")
        }

        // Phase 4: the other half of the kills and stops, the rest of the jobs between them.
        let secondHalf = plan.events - firstHalf
        for event in 0..<secondHalf {
            let share = event == secondHalf - 1 ? later - (later / secondHalf) * (secondHalf - 1) : later / secondHalf
            _ = try await workload.submit(share, pace: .mixed, rng: &rng, database: database)
            try await chaosEvent(plan: plan, rng: &rng, nodes: &nodes, figures: &figures, context: failureContext)
            if event % 2 == 0 {
                cancelRequested.formUnion(try await cancelSome(database, rng: &rng, deadlocks: &workload.deadlocks))
            }
        }

        // The end: every node up until every job has ended, then all stopped.
        try await startMissing(&nodes, context: failureContext)
        let calm = Date()
        try await Poll.until("every job to end", timeout: .seconds(120 + plan.jobs / 20), interval: .milliseconds(200),
                             context: { failureContext(nodes) }) {
            let left = try await database.query(
                "select count(*)::int as n from public.jobs where state not in ('completed', 'failed', 'cancelled')")[0].int("n")
            if let ended = nodes.running.first(where: { $0.process.termination != nil }) {
                throw ChildProcess.Failure("\(ended.process.label) exited on its own with \(left) jobs left\n\(failureContext(nodes))")
            }
            return left == 0
        }
        figures.drain = Date().timeIntervalSince(calm)
        for slot in nodes.slots {
            let ended = try await nodes.stop(slot, timeout: .seconds(plan.shutdownGraceSeconds + 20))
            let label = nodes.incarnations.last(where: { $0.slot == slot })?.label ?? "slot \(slot)"
            #expect(ended == .exited(0), "\(label) ended with \(ended)\n\(failureContext(nodes))")
        }
        figures.total = Date().timeIntervalSince(began)

        try await checkEnds(database, plan: plan, nodes: nodes, figures: &figures, submitted: workload.submitted + 1,
                            cancelRequested: cancelRequested, lockedJob: lockedJob, context: failureContext)
        figures.clientDeadlocks = workload.deadlocks
        for line in figures.lines(plan: plan) { print(line) }
    }

    // MARK: Chaos

    /// After a random wait, SIGKILLs (mostly) or SIGTERMs a random running node and starts it
    /// again. A kill may land anywhere, start-up included; a SIGTERM waits until the node is
    /// ready, since before that its default action ends the process, as for any program.
    func chaosEvent(plan: ChaosPlan, rng: inout SeededRandom, nodes: inout ChaosNodes, figures: inout ChaosFigures,
                    context: (ChaosNodes) -> String) async throws {
        try await Task.sleep(for: rng.seconds(0.3...1.5))
        let candidates = nodes.slots.filter { nodes.node($0) != nil }
        guard let slot = candidates.randomElement(using: &rng) else { return }
        if rng.chance(0.6) {
            nodes.kill(slot)
            figures.kills += 1
            try await Task.sleep(for: rng.seconds(0...0.8))
        } else {
            try await nodes.node(slot)!.waitUntilReady()
            let ended = try await nodes.stop(slot, timeout: .seconds(plan.shutdownGraceSeconds + 20))
            figures.stops += 1
            #expect(ended == .exited(0), "a node stopped with SIGTERM ended with \(ended)\n\(context(nodes))")
        }
        try nodes.start(slot)
        figures.starts += 1
    }

    /// Starts every slot that has no process and waits until all are ready.
    func startMissing(_ nodes: inout ChaosNodes, context: (ChaosNodes) -> String) async throws {
        for slot in nodes.slots where nodes.node(slot) == nil { try nodes.start(slot) }
        for node in nodes.running { try await node.waitUntilReady(timeout: .seconds(60)) }
    }

    /// Asks to cancel a few jobs that have not ended, queued or running, chosen by the seed.
    func cancelSome(_ database: Database, rng: inout SeededRandom, deadlocks: inout Int) async throws -> Set<UUID> {
        let salt = String(UInt64.random(in: 0...UInt64.max, using: &rng))
        let ids = try await database.query(
            """
            select id from public.jobs where state not in ('completed', 'failed', 'cancelled') and idempotency_key <> 'chaos-locked'
            order by md5(id::text || $1) limit 8
            """, [salt]).map { try $0.uuid("id") }
        _ = try await ChaosWorkload.retryingDeadlocks(&deadlocks) { try await JobQueue(database: database).cancel(jobs: ids) }
        return Set(ids)
    }

    /// Runs `body` until it does not fail for a lost connection (the database restarting).
    func persistently<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try await body()
            } catch let error as DatabaseError where error.isConnectionFailure && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                throw ChildProcess.Failure("could not \(what): \(error)")
            }
        }
    }

    // MARK: The checks

    func checkEnds(_ database: Database, plan: ChaosPlan, nodes: ChaosNodes, figures: inout ChaosFigures, submitted: Int,
                   cancelRequested: Set<UUID>, lockedJob: UUID, context: (ChaosNodes) -> String) async throws {
        // Every job submitted is one row, and ended: completed, or cancelled because it was asked.
        let states = try await database.query(
            "select state::text as state, count(*)::int as n, max(attempt)::int as most from public.jobs group by state")
        var byState: [String: Int] = [:]
        for row in states {
            byState[try row.string("state")] = try row.int("n")
            figures.maxAttempt = max(figures.maxAttempt, try row.int("most"))
        }
        figures.jobs = byState.values.reduce(0, +)
        figures.completed = byState["completed"] ?? 0
        figures.cancelled = byState["cancelled"] ?? 0
        figures.cancelRequests = cancelRequested.count
        figures.retriedJobs = try await database.query("select count(*)::int as n from public.jobs where attempt > 1")[0].int("n")
        figures.imageJobs = try await database.query("select count(*)::int as n from public.jobs where kind = 'image.generate'")[0].int("n")
        #expect(figures.jobs == submitted, "\(figures.jobs) jobs for \(submitted) submissions")
        #expect(figures.completed + figures.cancelled == figures.jobs, "jobs by state: \(byState)\n\(context(nodes))")
        let strayCancels = try await database.query("select id from public.jobs where state = 'cancelled'")
            .map { try $0.uuid("id") }.filter { !cancelRequested.contains($0) }
        #expect(strayCancels.isEmpty, "cancelled without being asked: \(strayCancels.prefix(5))")
        if figures.completed + figures.cancelled < figures.jobs {
            let failed = try await database.query(
                "select id, errors::text as errors from public.jobs where state = 'failed' limit 5").map { "\(try $0.string("id")): \(try $0.string("errors"))" }
            Issue.record("failed jobs: \(failed)")
        }

        // Exactly one move into an end state per job, and none out of one.
        let endings = try await database.query(
            """
            select j.id, j.state::text as state,
                   (select count(*) from chaos.transitions t where t.job_id = j.id and t.to_state in ('completed', 'failed', 'cancelled'))::int as ends,
                   (select count(*) from chaos.transitions t where t.job_id = j.id and t.from_state in ('completed', 'failed', 'cancelled'))::int as reopened
            from public.jobs j
            """)
        var wrong: [String] = []
        for row in endings {
            guard try row.int("ends") != 1 || row.int("reopened") != 0 else { continue }
            let id = try row.uuid("id")
            let history = try await database.query(
                "select from_state::text || '>' || to_state::text || ' ' || coalesce(old_owner, '-') || ' ' || coalesce(error, '') as t from chaos.transitions where job_id = $1::uuid order by seq",
                [id]).map { try $0.string("t") }
            wrong.append("\(id) \(try row.string("state")): \(history)")
        }
        #expect(endings.count == figures.jobs)
        #expect(wrong.isEmpty, "jobs not ended exactly once (\(wrong.count)): \(wrong.prefix(5))\n\(context(nodes))")

        // A job is rescued only once its node is gone (the locked row's job may be, once its lease lapsed).
        let rescues = try await database.query(
            """
            select job_id, old_owner, extract(epoch from at)::double precision as at from chaos.transitions
            where error like 'lease expired%'
            """)
        figures.rescues = rescues.count
        var early: [String] = []
        for row in rescues {
            let job = try row.uuid("job_id"), owner = try row.optionalString("old_owner") ?? "", at = try row.double("at")
            guard job != lockedJob else {
                figures.lockedJobRescued = true
                continue
            }
            let incarnation = nodes.incarnation(owner: owner)
            if let died = incarnation?.diedAt, at >= died.timeIntervalSince1970 { continue }
            let life = incarnation.map { "\($0.label), \($0.ending ?? "still running")\($0.diedAt.map { " at \($0.timeIntervalSince1970)" } ?? "")" } ?? "unknown"
            early.append("job \(job) of \(owner) (\(life)) rescued at \(at)")
        }
        #expect(early.isEmpty, "live nodes' jobs rescued (\(early.count)): \(early.prefix(5))\n\(context(nodes))")

        // Credits: each ended job's reserve captured or released in full, nothing reserved, every
        // balance what its ledger says.
        let unsettled = try await database.query(
            """
            select j.id from public.jobs j left join public.credit_transactions t on t.job_id = j.id
            group by j.id, j.credits_reserved
            having coalesce(sum(t.amount) filter (where t.type = 'reserve'), 0) <> j.credits_reserved
                or coalesce(sum(t.amount) filter (where t.type = 'reserve'), 0)
                   <> coalesce(sum(t.amount) filter (where t.type in ('capture', 'release')), 0)
            """)
        #expect(unsettled.isEmpty, "jobs whose reserve is not settled exactly: \(unsettled.count)")
        let accounts = try await database.query(
            """
            select s.user_id, s.credits_balance, s.credits_reserved,
                   coalesce(sum(t.amount) filter (where t.type in ('grant', 'purchase', 'adjustment')), 0)
                   - coalesce(sum(t.amount) filter (where t.type = 'capture'), 0) as ledger,
                   count(*) filter (where t.type = 'capture')::int as captures
            from public.subscriptions s left join public.credit_transactions t on t.user_id = s.user_id
            group by s.user_id, s.credits_balance, s.credits_reserved
            """)
        #expect(accounts.count == Tier.allCases.count * 2, "one account per user")
        for row in accounts {
            let user = try row.string("user_id"), reserved = try row.int("credits_reserved")
            let balance = try row.int("credits_balance"), ledger = try row.int("ledger")
            #expect(reserved == 0, "\(reserved) credits still reserved for \(user)")
            #expect(balance == ledger, "balance \(balance) but ledger \(ledger) for \(user)")
        }
        #expect(try accounts.map { try $0.int("captures") }.reduce(0, +) > 0)

        // No running count leaked: with every job ended, each lane and limited provider runs
        // nothing (only a limited provider counts the jobs it starts).
        let leaked = try await database.query(
            """
            select 'lane ' || l.user_id || ' ' || l.job_class as what, l.started - coalesce(e.ended, 0) as running
            from reeld.lanes l left join reeld.lane_ends e using (user_id, job_class)
            where l.started - coalesce(e.ended, 0) <> 0
            union all
            select 'provider ' || p.name, p.started - coalesce(e.ended, 0)
            from reeld.providers p left join reeld.provider_ends e using (name)
            where (p.max_running is not null or p.per_minute is not null) and p.started - coalesce(e.ended, 0) <> 0
            """).map { "\(try $0.string("what")): \(try $0.int("running"))" }
        #expect(leaked.isEmpty, "running counts left over with every job ended: \(leaked)")

        // A handler that completed twice would have recorded its image twice.
        let doubled = try await database.query(
            """
            select j.id,
                   (select count(*) from public.generations g where g.job_id = j.id)::int as generations,
                   (select count(*) from public.usage_logs u join public.generations g on g.id = u.generation_id where g.job_id = j.id)::int as usage,
                   (select count(*) from public.assets a join public.generations g on g.job_id = j.id
                    where a.storage_key like '%' || left(g.id::text, 8) || '%')::int as assets
            from public.jobs j where j.kind = 'image.generate' and j.state = 'completed'
            """).filter { try $0.int("generations") != 1 || $0.int("usage") != 1 || $0.int("assets") != 1 }
            .map { "\(try $0.string("id")): \(try $0.int("generations")) generations, \(try $0.int("usage")) usage lines, \(try $0.int("assets")) assets" }
        #expect(doubled.isEmpty, "images not recorded exactly once: \(doubled.prefix(5))")
    }
}
