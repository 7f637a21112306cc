import Foundation
import Logging
import ReelConfig
import ReelCore
import ReelDaemon
import ReelDB
import ReelLocalCluster
import ReelQueue

/// `reeld demo`: a film from a one-line brief, offline, through a real PostgreSQL queue.
///
/// Starts a throwaway cluster in the state directory, migrates, runs a node in-process with the
/// `local` provider, submits `workflow.run`, prints each step as it moves, then the film's path
/// and a summary. Nothing is left running afterwards.
public struct Demo: Sendable {
    public var brief: String
    public var scenes: Int
    public var stateDirectory: URL
    public var migrations: URL

    public init(brief: String, scenes: Int, stateDirectory: URL, migrations: URL) {
        self.brief = brief
        self.scenes = scenes
        self.stateDirectory = stateDirectory.standardizedFileURL
        self.migrations = migrations
    }

    /// Runs the demo; returns the film's path.
    @discardableResult
    public func run(logger: Logger) async throws -> String {
        let started = ContinuousClock.now
        let say: @Sendable (String) -> Void = { text in
            let elapsed = (ContinuousClock.now - started).seconds
            print(String(format: "[%6.1fs] ", elapsed) + text)
            fflush(nil)  // Progress shows as it happens even when stdout is a pipe.
        }
        say("starting a throwaway PostgreSQL in \(stateDirectory.path)/postgres")
        let cluster = LocalCluster(directory: stateDirectory.appendingPathComponent("postgres"))
        try cluster.start()
        defer {
            try? cluster.stop()
        }
        let url = cluster.url()
        let report = try Migrator(directory: migrations, logger: logger).migrate(url: url)
        say("migrated (\(report.applied.count) applied, \(report.alreadyApplied) already there)")

        var config = ReelConfig.default
        config.database.url = url
        config.database.poolSize = 6
        config.storage.root = stateDirectory.appendingPathComponent("storage").path
        config.render.cacheDirectory = stateDirectory.appendingPathComponent("render-cache").path
        config.intake.spoolDirectory = stateDirectory.appendingPathComponent("spool").path
        config.providers.local.tasksDirectory = stateDirectory.appendingPathComponent("local-tasks").path
        config.providers.local.videoDelay = .milliseconds(500)
        config.queue.workers = 8
        let node = try ReelNode(config: config, logger: logger, withSpool: false)

        try await node.applySettings()
        let user = try await node.database.query(
            """
            insert into auth.users (email) values ('demo@reeld.local')
            on conflict (email) do update set email = excluded.email returning id
            """)[0].uuid("id")
        // A pro subscription and bought credits, so that a twelve-scene film fits the tier's
        // limits and the balance; the ledger shows what it cost.
        try await node.database.query(
            """
            insert into public.subscriptions (user_id, tier) values ($1::uuid, 'pro')
            on conflict (user_id) do update set tier = 'pro'
            """, [user])
        try await CreditLedger(database: node.database).purchase(user: user, credits: 5000, reference: "demo:\(UUID().uuidString)", note: "demo credits")
        let job = try await node.queue.submit(JobSubmission(
            kind: .workflowRun, args: ["brief": .string(brief), "scenes": .int(Int64(scenes)), "title": .string(brief)],
            userID: user, idempotencyKey: "demo:\(UUID().uuidString)"))
        say("submitted workflow.run \(job.jobID.lowercasedText) for: \(brief)")

        let outcome = try await withThrowingTaskGroup(of: JSONValue?.self) { group in
            group.addTask {
                try await node.worker.run()
                return nil
            }
            group.addTask { try await watch(job: job.jobID, database: node.database, say: say) }
            let result = try await group.next()!
            group.cancelAll()
            return result
        }
        node.database.close()
        guard let outcome, let path = outcome["path"]?.stringValue else {
            throw ConfigurationProblem("the workflow did not finish")
        }
        return path
    }

    /// Prints step changes until the workflow job ends; returns its result and the summary.
    private func watch(job: UUID, database: Database, say: @escaping @Sendable (String) -> Void) async throws -> JSONValue {
        var seen: [String: String] = [:]
        let started = ContinuousClock.now
        while true {
            try await Task.sleep(for: .milliseconds(200))
            let row = try await database.query(
                "select state, project_id, result, errors -> -1 ->> 'error' as error from public.jobs where id = $1::uuid", [job])[0]
            if let project = try row.optionalUUID("project_id") {
                for step in try await database.query(
                    "select step, state, job_count, jobs_done from public.workflow_steps where project_id = $1::uuid order by step", [project]) {
                    let name = try step.string("step")
                    let state = "\(try step.string("state")) \(try step.int("jobs_done"))/\(try step.int("job_count"))"
                    if seen[name] != state {
                        seen[name] = state
                        if try step.string("state") != "pending" {
                            say("  " + name.padding(toLength: 11, withPad: " ", startingAt: 0) + " " + state + " jobs")
                        }
                    }
                }
            }
            let state = JobState(rawValue: try row.string("state"))!
            if state == .completed {
                let result = try row.json("result")
                try await printSummary(job: job, result: result, database: database, say: say)
                return result
            }
            if state.isFinal {
                throw ConfigurationProblem("workflow \(state.rawValue): \(try row.optionalString("error") ?? "no error recorded")")
            }
            if ContinuousClock.now - started > .seconds(600) { throw ConfigurationProblem("the workflow took over 10 minutes") }
        }
    }

    private func printSummary(job: UUID, result: JSONValue, database: Database, say: (String) -> Void) async throws {
        let project = result["project_id"]?.stringValue ?? ""
        say("done. film: \(result["path"]?.stringValue ?? "?")")
        print(String(format: "  duration %.2f s", result["duration_seconds"]?.doubleValue ?? 0))
        print("  jobs by kind (count, attempts):")
        for row in try await database.query(
            """
            select kind, count(*) as n, sum(attempt) as attempts, sum(jsonb_array_length(errors)) as errors
            from public.jobs where project_id = $1::uuid or id = $2::uuid group by kind order by min(created_at)
            """, [project, job]) {
            print("    " + (try row.string("kind")).padding(toLength: 16, withPad: " ", startingAt: 0)
                  + String(format: "%3d jobs  %3d attempts  %d errors", try row.int("n"), try row.int("attempts"), try row.int("errors")))
        }
        let credits = try await database.query(
            """
            select coalesce(sum(t.amount) filter (where t.type = 'reserve'), 0) as reserved,
                   coalesce(sum(t.amount) filter (where t.type = 'capture'), 0) as captured,
                   coalesce(sum(t.amount) filter (where t.type = 'release'), 0) as released,
                   (select coalesce(sum(u.credits), 0) from public.usage_logs u join public.generations g on g.id = u.generation_id
                    where g.project_id = $1::uuid) as used,
                   (select s.credits_balance from public.subscriptions s join public.jobs w on w.user_id = s.user_id
                    where w.id = $2::uuid) as balance
            from public.credit_transactions t join public.jobs j on j.id = t.job_id
            where j.project_id = $1::uuid or j.id = $2::uuid
            """, [project, job])[0]
        print("  credits: \(try credits.int("reserved")) reserved, \(try credits.int("captured")) charged "
              + "(usage priced at \(try credits.int("used"))), \(try credits.int("released")) released; balance \(try credits.int("balance"))")
        print("  time per step:")
        for row in try await database.query(
            """
            select step, extract(epoch from finished_at - started_at) as seconds, job_count
            from public.workflow_steps where project_id = $1::uuid order by step
            """, [project]) {
            print("    " + (try row.string("step")).padding(toLength: 11, withPad: " ", startingAt: 0)
                  + String(format: "%6.2f s  (%d jobs)", try row.optionalDouble("seconds") ?? 0, try row.int("job_count")))
        }
    }
}
