import Foundation
import Glibc
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Testing

/// Real `reeld run` nodes whose remote providers are fakes in the test process: a fresh database
/// with a user holding credits and a project (with a storyboard, so that clips and audio may be
/// asked for on their own), a credentials directory holding each provider's keys, and the config
/// that enables exactly those providers (`local` off). Every wait is on the database's rows or the
/// fakes' counters; the timeouts only bound a test that has already failed.
struct ProviderStage: Sendable {
    let url: String
    let database: Database
    let directory: TemporaryDirectory
    /// What `CREDENTIALS_DIRECTORY` points the nodes at.
    let credentials: URL
    let endpoints: [FakeEndpoint]
    let user: UUID
    let project: UUID
    /// Credits bought for the user before any job.
    let purchased: Int
    /// Further TOML for the nodes: `[routing.*]`, costs, deadlines.
    let extraConfig: String

    /// The lease the nodes use, renewed every second: a killed node's job is rescued a few
    /// seconds later, while a live node on a loaded machine would have to miss seven heartbeats
    /// in a row to lose its job to its own rescuer (and call a provider twice, failing the
    /// create counts for no fault of the code under test).
    static let leaseSeconds = 8

    init(prefix: String, endpoints: [FakeEndpoint], extraConfig: String = "", credits: Int = 100_000) async throws {
        directory = try TemporaryDirectory(prefix: prefix)
        url = try TestDatabase.makeDatabase()
        database = Database(configuration: .init(url: url, maxConnections: 2), logger: TestDatabase.logger)
        credentials = directory.appending("credentials")
        try FileManager.default.createDirectory(at: credentials, withIntermediateDirectories: true)
        for endpoint in endpoints {
            for (file, key) in endpoint.keys {
                let path = credentials.appendingPathComponent(file).path
                try Data(key.utf8).write(to: URL(fileURLWithPath: path))
                chmod(path, 0o600)
            }
        }
        self.endpoints = endpoints
        self.extraConfig = extraConfig
        purchased = credits
        user = try await TestDatabase.makeUser(database)
        project = try await TestDatabase.makeProject(database, user: user)
        try await database.query(
            "update public.projects set storyboard = $2::jsonb where id = $1::uuid",
            [project, #"{"title": "Test", "scenes": []}"#])
        _ = try await CreditLedger(database: database).purchase(user: user, credits: credits)
    }

    func remove() {
        database.close()
        directory.remove()
    }

    /// The config beyond what `ReeldProcess.Settings` writes: the first endpoint is the default
    /// provider, every endpoint is enabled.
    var providersConfig: String {
        "[providers]\ndefault = \"\(endpoints.first?.name ?? "local")\"\n" + endpoints.map(\.configText).joined() + extraConfig
    }

    /// Starts `reeld run` as node `name` (one directory per name: spool, storage, logs).
    func startNode(_ name: String, label: String? = nil) throws -> ReeldProcess {
        var settings = ReeldProcess.Settings(nodeName: name, databaseURL: url, directory: directory.appending(name))
        settings.leaseSeconds = Self.leaseSeconds
        settings.heartbeatSeconds = 1
        settings.rescueIntervalSeconds = 1
        settings.localProviderEnabled = false
        settings.extraConfig = providersConfig
        return try ReeldProcess(settings, label: label ?? name, environment: ["CREDENTIALS_DIRECTORY": credentials.path])
    }

    /// Submits a job for the stage's user and project.
    func submit(_ kind: JobKind, _ args: JSONValue) async throws -> UUID {
        try await JobQueue(database: database).submit(JobSubmission(kind: kind, args: args, userID: user, projectID: project)).jobID
    }

    /// One job's row, as these tests need it.
    struct JobRow: Sendable, CustomStringConvertible {
        var state: String
        var attempt: Int
        var leaseOwner: String?
        var errors: [JSONValue]
        var result: JSONValue?

        var lastError: String { errors.last?["error"]?.stringValue ?? "" }
        var ended: Bool { ["completed", "failed", "cancelled"].contains(state) }
        var description: String { "\(state), attempt \(attempt), owner \(leaseOwner ?? "-"), errors \(errors)" }
    }

    func job(_ id: UUID) async throws -> JobRow {
        let row = try await database.query(
            "select state::text as state, attempt, lease_owner, errors, result from public.jobs where id = $1::uuid", [id])[0]
        return JobRow(
            state: try row.string("state"), attempt: try row.int("attempt"), leaseOwner: try row.optionalString("lease_owner"),
            errors: try row.json("errors").arrayValue ?? [], result: try row.optionalJSON("result"))
    }

    /// Polls until `condition` holds; fails naming `what` with the nodes' logs at `timeout`, or at
    /// once when one of `nodes` has exited.
    func eventually(_ what: String, nodes: [ReeldProcess], timeout: Duration = .seconds(120),
                    _ condition: () async throws -> Bool) async throws {
        try await Poll.until(what, timeout: timeout, interval: .milliseconds(25),
                             context: { nodes.map { "[\($0.process.label)]\n\($0.process.stderrTail())" }.joined(separator: "\n") }) {
            if let ended = nodes.first(where: { $0.process.termination != nil }) {
                throw ChildProcess.Failure("\(ended.process.label) exited while waiting for \(what)\n\(ended.process.stderrTail())")
            }
            return try await condition()
        }
    }

    /// Waits until job `id` has ended (completed, failed or cancelled) and returns its row.
    func waitUntilEnded(_ id: UUID, nodes: [ReeldProcess], timeout: Duration = .seconds(180)) async throws -> JobRow {
        try await eventually("job \(id) to end", nodes: nodes, timeout: timeout) { try await job(id).ended }
        return try await job(id)
    }

    /// A job's generation row.
    struct GenerationRow: Sendable, CustomStringConvertible {
        var id: UUID
        var kind: String
        var provider: String
        var state: String
        var taskID: String?
        var error: String?
        var assetID: UUID?
        var description: String { "\(id) \(kind) at \(provider): \(state), task \(taskID ?? "-"), error \(error ?? "-")" }
    }

    func generations(job: UUID? = nil) async throws -> [GenerationRow] {
        let rows = try await database.query(
            """
            select id, kind, provider, state, provider_task_id, error, asset_id from public.generations
            where project_id = $1::uuid and ($2::uuid is null or job_id = $2::uuid) order by created_at
            """, [project, job])
        return try rows.map {
            GenerationRow(id: try $0.uuid("id"), kind: try $0.string("kind"), provider: try $0.string("provider"), state: try $0.string("state"),
                          taskID: try $0.optionalString("provider_task_id"), error: try $0.optionalString("error"),
                          assetID: try $0.optionalUUID("asset_id"))
        }
    }

    /// The user's ledger: what was granted or bought, captured (charged), and the account's
    /// balance and reservation.
    struct Account: Sendable, CustomStringConvertible {
        var balance: Int
        var reserved: Int
        var credited: Int
        var captured: Int
        var captures: Int
        /// Jobs whose reserve is not exactly captured plus released.
        var unsettledJobs: [String]
        var balanced: Bool { balance == credited - captured && reserved == 0 && unsettledJobs.isEmpty }
        var description: String {
            "balance \(balance), reserved \(reserved), granted or bought \(credited), captured \(captured) in \(captures), unsettled jobs \(unsettledJobs)"
        }
    }

    func account() async throws -> Account {
        let row = try await database.query(
            """
            select s.credits_balance as balance, s.credits_reserved as reserved,
                   coalesce(sum(t.amount) filter (where t.type in ('grant', 'purchase')), 0) as credited,
                   coalesce(sum(t.amount) filter (where t.type = 'capture'), 0) as captured,
                   count(t.id) filter (where t.type = 'capture') as captures
            from public.subscriptions s left join public.credit_transactions t on t.user_id = s.user_id
            where s.user_id = $1::uuid group by s.credits_balance, s.credits_reserved
            """, [user])[0]
        let unsettled = try await database.query(
            """
            select j.id::text as id from public.jobs j left join public.credit_transactions t on t.job_id = j.id
            where j.user_id = $1::uuid group by j.id, j.credits_reserved
            having coalesce(sum(t.amount) filter (where t.type = 'reserve'), 0) <> j.credits_reserved
                or coalesce(sum(t.amount) filter (where t.type = 'reserve'), 0)
                   <> coalesce(sum(t.amount) filter (where t.type in ('capture', 'release')), 0)
            """, [user]).map { try $0.string("id") }
        return Account(balance: try row.int("balance"), reserved: try row.int("reserved"), credited: try row.int("credited"),
                       captured: try row.int("captured"), captures: try row.int("captures"), unsettledJobs: unsettled)
    }

    /// The credit movements of one job, by type.
    func movements(job: UUID) async throws -> [String: Int] {
        let rows = try await database.query(
            "select type, amount from public.credit_transactions where job_id = $1::uuid", [job])
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.string("type"), try $0.int("amount")) })
    }

    /// Ends `node` as SIGKILL does and reaps it.
    func kill(_ node: ReeldProcess) async throws {
        node.process.send(SIGKILL)
        #expect(try await node.process.waitForExit(timeout: .seconds(20)) == .signalled(SIGKILL))
    }

    /// SIGTERM, and an exit 0 within the grace.
    func stop(_ nodes: [ReeldProcess]) async throws {
        for node in nodes { node.process.send(SIGTERM) }
        for node in nodes {
            #expect(try await node.process.waitForExit(timeout: .seconds(30)) == .exited(0), "\(node.process.stderrTail())")
        }
    }
}
