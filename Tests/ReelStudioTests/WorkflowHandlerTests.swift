import Foundation
import ReelCore
import ReelDB
import ReelProviders
import ReelQueue
import ReelTestSupport
import ServiceLifecycle
import Synchronization
import Testing

@testable import ReelStudio

/// `workflow.run` against a real PostgreSQL and a real worker. Its children are run by
/// stand-ins that record what a real generation or render records (the storyboard and a scene,
/// assets by role and scene), so that the run's bookkeeping is tested without providers or libav.
@Suite struct WorkflowHandlerTests {
    let url: String
    let database: Database
    let queue: JobQueue
    let user: UUID
    let project: UUID
    let holds = Holds()

    /// Children the test keeps from finishing: while a kind's flag is set, its child snoozes
    /// (for an hour) instead of finishing.
    final class Holds: Sendable {
        let speech = Atomic<Bool>(true)
        let storyboard = Atomic<Bool>(false)
    }

    init() async throws {
        url = try TestDatabase.makeDatabase()
        database = Database(configuration: .init(url: url, maxConnections: 6), logger: TestDatabase.logger)
        queue = JobQueue(database: database)
        user = try await TestDatabase.makeUser(database)
        project = try await TestDatabase.makeProject(database, user: user)
        _ = try await CreditLedger(database: database).purchase(user: user, credits: 1_000_000)
    }

    func handlers(router: Router) -> HandlerRegistry {
        var handlers = HandlerRegistry()
        handlers.register(.workflowRun, WorkflowHandler(store: StudioStore(database: database), router: router, pollInterval: .seconds(30)))
        for kind in [JobKind.storyboard, .image, .video, .speech, .music, .soundEffect, .edit, .export] {
            handlers.register(kind, ClosureHandler { [database, holds] job, _ in
                let held = job.kind == .speech ? holds.speech.load(ordering: .relaxed)
                    : job.kind == .storyboard ? holds.storyboard.load(ordering: .relaxed) : false
                if held { return .snooze(after: .seconds(3600), state: ["held": true]) }
                try await Self.record(job, database: database)
                return .completed([:])
            })
        }
        return handlers
    }

    /// What a real handler of `job` leaves behind that later steps need.
    static func record(_ job: ClaimedJob, database: Database) async throws {
        let project = try #require(job.projectID)
        if job.kind == .storyboard {
            try await database.query("update projects set storyboard = '{\"title\": \"t\"}' where id = $1::uuid", [project])
            try await database.query(
                "insert into scenes (user_id, project_id, index) select user_id, id, 0 from projects where id = $1::uuid on conflict do nothing",
                [project])
            return
        }
        let (kind, role): (String, String) = switch job.kind {
        case .image: ("image", job.args["role"]?.stringValue ?? "image")
        case .video: ("video", "clip")
        case .edit: ("timeline", "timeline")
        case .export: ("export", "film")
        default: ("audio", job.args["role"]?.stringValue ?? "sfx")
        }
        try await database.query(
            """
            insert into assets (user_id, project_id, scene_id, kind, role, storage_key, mime_type, size_bytes, sha256)
            select user_id, id, $2::uuid, $3, $4, 'k', 'x/y', 1, 'h' from projects where id = $1::uuid
            """, [project, job.args["scene_id"]?.stringValue.flatMap(UUID.init(uuidString:)), kind, role])
    }

    /// Runs a worker in a service group around `body`, then shuts it down.
    func withWorker(router: Router = Router(enabled: ["local"]), _ body: () async throws -> Void) async throws {
        let configuration = QueueWorker.Configuration(
            owner: "workflow-test", workers: 8, claimBatch: 16, lease: .seconds(10), heartbeatInterval: .seconds(1))
        let worker = QueueWorker(queue: queue, handlers: handlers(router: router), configuration: configuration, listenURL: url, logger: TestDatabase.logger)
        let group = ServiceGroup(configuration: .init(services: [worker], logger: TestDatabase.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do { try await body() } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Polls the database until `condition` holds (the worker runs on its own; nothing here
    /// can be awaited directly), failing after a generous bound.
    func eventually(_ what: Comment, _ condition: () async throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting: \(what)", sourceLocation: sourceLocation)
        throw CancellationError()
    }

    func state(_ job: UUID) async throws -> String {
        try await database.query("select state::text as state from jobs where id = $1::uuid", [job])[0].string("state")
    }

    func count(_ sql: String, _ parameters: [any SQLParameter]) async throws -> Int {
        try await database.query(sql, parameters)[0].int("n")
    }

    /// Makes held children due again and wakes the worker.
    func release(_ kind: JobKind) async throws {
        try await database.query("update jobs set run_at = now() where kind = $1 and state = 'waiting'", [kind.rawValue])
        try await database.query("select pg_notify('reeld_jobs', '')")
    }

    /// The hero shot regenerated while the run works on a later step: the frames and clips made
    /// from the old one go stale, and the run makes them again as new jobs, from the new hero,
    /// instead of finding the children that made the stale ones under the same keys.
    @Test func aStaleStepRunsAgainAsNewChildren() async throws {
        try await withWorker {
            let run = try await queue.submit(JobSubmission(kind: .workflowRun, args: ["brief": "b"], userID: user, projectID: project)).jobID
            try await eventually("the run's voiceover is held") {
                try await count("select count(*) as n from jobs where parent_id = $1::uuid and kind = 'audio.speech' and state = 'waiting'", [run]) == 1
            }
            let hero = try await queue.submit(JobSubmission(kind: .image, args: ["prompt": "a new hero", "role": "hero"], projectID: project)).jobID
            try await eventually("the new hero shot is made") { try await state(hero) == "completed" }
            let stale = try await database.query(
                "select step::text as step, regeneration from workflow_steps where project_id = $1::uuid and state = 'stale' order by workflow_steps.step", [project]
            ).map { "\(try $0.string("step")) \(try $0.int("regeneration"))" }
            #expect(stale == ["frames 1", "clips 1"])

            holds.speech.store(false, ordering: .relaxed)
            try await release(.speech)
            try await eventually("the run completes") { ["completed", "failed"].contains(try await state(run)) }
            #expect(try await state(run) == "completed")
        }
        let newHero = try await database.query(
            "select id from assets where project_id = $1::uuid and role = 'hero' order by created_at desc limit 1", [project])[0].uuid("id")
        let frames = try await database.query(
            """
            select idempotency_key, args ->> 'reference_asset_id' as reference from jobs
            where parent_id = $1::uuid and args ->> 'role' = 'start_frame' order by created_at
            """, [try await runID()]
        ).map { (try $0.string("idempotency_key"), try $0.string("reference")) }
        #expect(frames.count == 2, "the scene's start frame was made again")
        #expect(frames.last?.1 == newHero.lowercasedText, "from the new hero shot")
        #expect(Set(frames.map(\.0)).count == frames.count)
        #expect(try await count("select count(*) as n from jobs where parent_id = $1::uuid and kind = 'video.generate'", [try await runID()]) == 2)
        #expect(try await count("select count(*) as n from jobs where state <> 'completed'", []) == 0)
    }

    /// Without a provider of its own, each child goes where the routing table sends its kind:
    /// the clips, which run between two frames, to a model that takes an end frame (Kling, not
    /// OpenAI), and the job's provider column (which the claim's limits count) says so too.
    @Test func childrenGoWhereTheRoutingTableSendsThem() async throws {
        holds.speech.store(false, ordering: .relaxed)
        var routes = Router.defaultRoutes
        routes[.video] = ["openai", "kling", "local"]
        try await withWorker(router: Router(routes: routes, enabled: ["local", "openai", "kling", "elevenlabs"])) {
            let run = try await queue.submit(JobSubmission(kind: .workflowRun, args: ["brief": "b"], userID: user, projectID: project)).jobID
            try await eventually("the run completes") { ["completed", "failed"].contains(try await state(run)) }
            #expect(try await state(run) == "completed")
        }
        let rows = try await database.query(
            "select distinct kind, args ->> 'provider' as arg, provider from jobs where parent_id = $1::uuid and provider is not null order by kind",
            [try await runID()])
        let routed = try rows.map { "\(try $0.string("kind")) \(try $0.string("arg")) \(try $0.string("provider"))" }
        #expect(routed == [
            "audio.music elevenlabs elevenlabs", "audio.sfx elevenlabs elevenlabs", "audio.speech elevenlabs elevenlabs",
            "image.generate openai openai", "text.storyboard openai openai", "video.generate kling kling",
        ])
    }

    /// A run that names its provider keeps it for every child, whatever the table says.
    @Test func theRunsOwnProviderGoesToEveryChild() async throws {
        holds.speech.store(false, ordering: .relaxed)
        try await withWorker(router: Router(enabled: ["local", "openai", "kling", "elevenlabs"])) {
            let run = try await queue.submit(
                JobSubmission(kind: .workflowRun, args: ["brief": "b", "provider": "local"], userID: user, projectID: project)).jobID
            try await eventually("the run completes") { ["completed", "failed"].contains(try await state(run)) }
            #expect(try await state(run) == "completed")
        }
        let providers = try await database.query(
            "select distinct args ->> 'provider' as p from jobs where parent_id = $1::uuid and kind not like 'render.%'", [try await runID()]
        ).map { try $0.string("p") }
        #expect(providers == ["local"])
    }

    func runID() async throws -> UUID {
        try await database.query("select id from jobs where kind = 'workflow.run'")[0].uuid("id")
    }

    /// A run that submitted a step's children and then lost its bookkeeping (a crash before
    /// the step was marked running) submits the same keys again and finds the same children.
    @Test func aRetriedRunFindsTheChildrenItAlreadySubmitted() async throws {
        holds.storyboard.store(true, ordering: .relaxed)
        holds.speech.store(false, ordering: .relaxed)
        try await withWorker {
            let run = try await queue.submit(JobSubmission(kind: .workflowRun, args: ["brief": "b"], userID: user, projectID: project)).jobID
            try await eventually("the storyboard child is held") {
                try await count("select count(*) as n from jobs where parent_id = $1::uuid and state = 'waiting'", [run]) == 1
            }
            try await eventually("the run snoozes") { try await state(run) == "waiting" }
            try await database.query("update workflow_steps set state = 'pending' where project_id = $1::uuid and step = 'storyboard'", [project])
            try await database.query("update jobs set run_at = now() where id = $1::uuid", [run])
            try await database.query("select pg_notify('reeld_jobs', '')")
            try await eventually("the run looked at the step again") {
                try await database.query("select state::text as state from workflow_steps where project_id = $1::uuid and step = 'storyboard'", [project])[0]
                    .string("state") == "running"
            }
            holds.storyboard.store(false, ordering: .relaxed)
            try await release(.storyboard)
            try await eventually("the run completes") { ["completed", "failed"].contains(try await state(run)) }
            #expect(try await state(run) == "completed")
            #expect(try await count("select count(*) as n from jobs where parent_id = $1::uuid and kind = 'text.storyboard'", [run]) == 1)
        }
    }
}
