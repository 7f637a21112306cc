import Foundation
import Glibc
import Logging
import ReelConfig
import ReelCore
import ReelDaemon
import ReelDB
import ReelHTTP
import ReelQueue

/// The node figure of `reeld bench providers`: one node, as `reeld run` composes it, holding
/// `tasks` Sora videos pending at once and polling them until they complete, against the
/// benchmark server's stand-in for OpenAI's video API (``VideoAPIStandIn``) and a throwaway
/// database. Runs in a process of its own, so that its RSS figures are not lowered by memory
/// the earlier figures left with the allocator, nor raised by the server's.
public struct NodeTasksBenchmark: Sendable {
    public var tasks: Int
    public var workers: Int
    /// The benchmark server's root (`http://127.0.0.1:PORT`).
    public var server: String
    public var migrations: URL
    public var directory: URL

    public init(tasks: Int, workers: Int, server: String, migrations: URL, directory: URL) {
        self.tasks = tasks
        self.workers = workers
        self.server = server
        self.migrations = migrations
        self.directory = directory
    }

    /// What the samples found (RSS in KiB).
    struct Figures {
        var before = 0
        /// The most while every video was pending at the server: the figure the target is for.
        var peakAllPending: Int?
        /// The most over the whole run, completions (download, probe, store) included, and the
        /// videos pending then.
        var peak = 0
        var pendingAtPeak = 0
        var mostPending = 0
        var seconds = 0.0
        var stats = ServerStats()
    }

    struct ServerStats: Decodable {
        var created = 0
        var completed = 0
        var polls = 0
        var pending: Int { created - completed }
    }

    public func run(logger: Logger) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await BenchDatabase.withMigrated(migrations: migrations, logger: logger) { url in
            let node = try ReelNode(config: try config(databaseURL: url), logger: logger, withSpool: false)
            let (user, project) = try await seed(node.database)
            let figures = try await withThrowingTaskGroup(of: Figures?.self) { group in
                group.addTask {
                    try await node.run()
                    return nil
                }
                group.addTask {
                    // The node starts its pools, claimers and LISTEN; what it holds idle is the baseline.
                    try await Task.sleep(for: .seconds(2))
                    return try await measure(node, user: user, project: project)
                }
                // Whichever ends first: the figures, or a node that failed (and would leave the
                // jobs waiting forever); the other is cancelled.
                let first = try await group.next()!
                group.cancelAll()
                guard let figures = first else { throw BenchmarkFailure("the node stopped before its jobs completed") }
                return figures
            }
            try check(figures)
            report(figures)
        }
    }

    /// The node's configuration file, written and loaded as `reeld run` loads it: OpenAI with
    /// Sora at the stand-in, no local provider, and a video limit per user that does not bind
    /// (one user submits all the jobs).
    private func config(databaseURL: String) throws -> ReelConfig {
        let key = directory.appendingPathComponent("openai-api-key")
        try Data("sk-bench".utf8).write(to: key)
        chmod(key.path, 0o600)
        let text = """
            [node]
            name = "bench"
            [database]
            url = \(quoted(databaseURL))
            pool_size = 8
            [queue]
            workers = \(workers)
            [storage]
            root = \(quoted(directory.appendingPathComponent("storage").path))
            [render]
            cache_dir = \(quoted(directory.appendingPathComponent("render-cache").path))
            [providers]
            default = "openai"
            [providers.local]
            enabled = false
            tasks_dir = \(quoted(directory.appendingPathComponent("local-tasks").path))
            [providers.openai]
            enabled = true
            sora_enabled = true
            base_url = \(quoted(server + "/v1"))
            api_key_file = \(quoted(key.path))
            [tiers.free]
            concurrent = { video = "unlimited" }
            per_minute = { video = "unlimited" }
            [log]
            backend = "stderr"

            """
        let file = directory.appendingPathComponent("reeld.toml")
        try Data(text.utf8).write(to: file)
        return try ReelConfig.load(path: file.path)
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A user with credits for every job (each reserves the video estimate) and a project with a storyboard.
    private func seed(_ database: Database) async throws -> (user: UUID, project: UUID) {
        let user = try await database.query("insert into auth.users (email) values ('bench-node@reeld.local') returning id")[0].uuid("id")
        let project = try await database.query(
            """
            insert into public.projects (user_id, title, storyboard) values ($1::uuid, 'bench', '{"title": "Bench", "scenes": []}'::jsonb) returning id
            """, [user])[0].uuid("id")
        _ = try await CreditLedger(database: database).purchase(user: user, credits: tasks * 1_000)
        return (user, project)
    }

    /// Submits the jobs and samples the server's counts and then RSS every 50 ms (so that each
    /// sample knows whether every video was pending) until every job has ended.
    private func measure(_ node: ReelNode, user: UUID, project: UUID) async throws -> Figures {
        var figures = Figures()
        figures.before = ProviderBenchmark.residentKiB()
        figures.peak = figures.before
        let started = ContinuousClock.now
        // All at once, in one statement through reeld.submit_job() (as JobQueue.submit calls it):
        // one submit after another would let the first videos finish before the last were asked for.
        try await node.database.query(
            """
            select reeld.submit_job(
                p_kind => 'video.generate', p_user_id => $1::uuid, p_project_id => $2::uuid,
                p_args => jsonb_build_object('prompt', 'Bench clip ' || g, 'provider', 'openai', 'duration_seconds', 4))
            from generate_series(1, $3::int) g
            """, [user, project, tasks])
        var round = 0
        while true {
            figures.stats = try await stats(node.http)
            figures.mostPending = max(figures.mostPending, figures.stats.pending)
            if round % 5 == 0, try await ended(node.database) == tasks { break }
            let now = ProviderBenchmark.residentKiB()
            if figures.stats.pending == tasks {
                figures.peakAllPending = max(figures.peakAllPending ?? 0, now)
            }
            if now > figures.peak {
                figures.peak = now
                figures.pendingAtPeak = figures.stats.pending
            }
            round += 1
            try await Task.sleep(for: .milliseconds(50))
        }
        figures.seconds = (ContinuousClock.now - started).seconds
        return figures
    }

    private func stats(_ http: HTTPClient) async throws -> ServerStats {
        let response = try await http.execute(HTTPRequest(url: server + "/v1/bench-stats"))
        return try JSONDecoder().decode(ServerStats.self, from: Data(response.body))
    }

    /// Jobs that have ended; throws at the first that did not complete.
    private func ended(_ database: Database) async throws -> Int {
        let row = try await database.query(
            """
            select count(*) filter (where state = 'completed') as completed,
                   (select errors -> -1 ->> 'error' from public.jobs where state in ('failed', 'cancelled') limit 1) as failure
            from public.jobs where kind = 'video.generate'
            """)[0]
        if let failure = try row.optionalString("failure") { throw BenchmarkFailure("a video job did not complete: \(failure)") }
        return try row.int("completed")
    }

    /// Every job completed; each video was created exactly once.
    private func check(_ figures: Figures) throws {
        guard figures.stats.created == tasks, figures.stats.completed == tasks else {
            throw BenchmarkFailure("the server saw \(figures.stats.created) creates and \(figures.stats.completed) completions for \(tasks) jobs")
        }
    }

    private func report(_ figures: Figures) {
        let megabytes = { (kib: Int) in Double(kib - figures.before) / 1024 }
        if let held = figures.peakAllPending {
            print(String(format: "%d video tasks pending at once on one node (%d workers, OpenAI stand-in): RSS +%.1f MB while all were pending (from %.1f MB)  [target ≤ 50 MB]",
                         tasks, workers, megabytes(held), Double(figures.before) / 1024))
        } else {
            print("\(tasks) video tasks on one node: no RSS sample while all were pending (\(figures.mostPending) at most); see the peak below")
        }
        print(String(format: "  whole run: RSS +%.1f MB at its peak (%d pending then: completions download, probe and store each clip)",
                     megabytes(figures.peak), figures.pendingAtPeak))
        print(String(format: "  %d creates, %d polls (%.0f per second), all %d jobs completed %.1f s after they were submitted",
                     figures.stats.created, figures.stats.polls, Double(figures.stats.polls) / figures.seconds, tasks, figures.seconds))
    }
}
