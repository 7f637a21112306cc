import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Testing

/// The seed's eight steps as rules `reeld.submit_job()` enforces: a job whose earlier steps have
/// not produced what it needs is refused naming the missing step; regenerating an earlier step
/// marks the later ones stale and keeps their assets.
@Suite struct WorkflowRulesTests {
    let database: Database
    let queue: JobQueue
    let user: UUID
    let project: UUID

    init() async throws {
        database = try TestDatabase.makePool()
        queue = JobQueue(database: database)
        user = try await TestDatabase.makeUser(database)
        project = try await TestDatabase.makeProject(database, user: user)
        // Enough credits for any number of jobs: these tests are about the steps.
        _ = try await CreditLedger(database: database).purchase(user: user, credits: 1_000_000)
    }

    func submit(_ kind: JobKind, _ args: JSONValue) async throws -> UUID {
        try await queue.submit(JobSubmission(kind: kind, args: args, projectID: project)).jobID
    }

    func expectRefused(_ kind: JobKind, _ args: JSONValue, _ message: String,
                       sourceLocation: SourceLocation = #_sourceLocation) async {
        await #expect(sourceLocation: sourceLocation) { try await submit(kind, args) } throws: { error in
            guard case SubmitError.invalid(let text) = error else { return false }
            return text.contains(message)
        }
    }

    func storyboard(scenes: Int) async throws -> [UUID] {
        try await database.query("update projects set storyboard = '{\"title\": \"t\"}' where id = $1::uuid", [project])
        var ids: [UUID] = []
        for index in 0..<scenes {
            ids.append(try await database.query(
                "insert into scenes (user_id, project_id, index) values ($1::uuid, $2::uuid, $3::int) returning id",
                [user, project, index])[0].uuid("id"))
        }
        return ids
    }

    @discardableResult
    func asset(_ kind: String, role: String, scene: UUID? = nil) async throws -> UUID {
        try await database.query(
            """
            insert into assets (user_id, project_id, scene_id, kind, role, storage_key, mime_type, size_bytes, sha256)
            values ($1::uuid, $2::uuid, $3::uuid, $4, $5, 'k', 'x/y', 1, 'h') returning id
            """, [user, project, scene, kind, role])[0].uuid("id")
    }

    @Test func eachStepNeedsWhatTheStepsBeforeItMade() async throws {
        await expectRefused(.image, ["prompt": "hero", "role": "hero"], "needs step storyboard first: the project has no storyboard yet")
        await expectRefused(.speech, ["text": "hello"], "audio.speech (step audio) needs step storyboard first")
        _ = try await submit(.storyboard, ["brief": "a storm"])

        let scenes = try await storyboard(scenes: 2)
        _ = try await submit(.image, ["prompt": "hero", "role": "hero"])
        let scene = JSONValue.string(scenes[0].lowercasedText)
        await expectRefused(.image, ["prompt": "f", "role": "start_frame", "scene_id": scene], "needs step hero_shot first")
        try await asset("image", role: "hero")
        _ = try await submit(.image, ["prompt": "f", "role": "start_frame", "scene_id": scene])
        await expectRefused(.image, ["prompt": "f", "role": "end_frame"], "args.scene_id: required")

        await expectRefused(.video, ["prompt": "c", "scene_id": scene], "video.generate (step clips) needs step frames first: scene 1 has no start frame")
        try await asset("image", role: "start_frame", scene: scenes[0])
        _ = try await submit(.video, ["prompt": "c", "scene_id": scene])

        await expectRefused(.edit, [:], "render.edit (step edit) needs step clips first: scene 1 has no clip")
        try await asset("video", role: "clip", scene: scenes[0])
        await expectRefused(.edit, [:], "scene 2 has no clip")
        try await asset("video", role: "clip", scene: scenes[1])
        _ = try await submit(.edit, [:])

        await expectRefused(.export, [:], "render.export (step export) needs step edit first: the project has no timeline")
        let timeline = try await asset("timeline", role: "timeline")
        _ = try await submit(.export, [:])
        _ = try await submit(.export, ["timeline_asset_id": .string(timeline.lowercasedText)])
        let notATimeline = try await asset("image", role: "image")
        await expectRefused(.export, ["timeline_asset_id": .string(notATimeline.lowercasedText)], "is not a timeline of this project")
    }

    @Test func aClipMayStartFromAnImageOfTheProjectButNotFromAnotherProjects() async throws {
        _ = try await storyboard(scenes: 1)
        let frame = try await asset("image", role: "start_frame")
        _ = try await submit(.video, ["prompt": "c", "start_asset_id": .string(frame.lowercasedText)])
        await expectRefused(.video, ["prompt": "c", "start_asset_id": .string(UUID().lowercasedText)], "needs step frames first")
        await expectRefused(.video, ["prompt": "c", "scene_id": "not-a-uuid"], "args.scene_id: expected a uuid")
    }

    @Test func jobsWithoutAProjectOrAStepAreNotHeldToTheRules() async throws {
        _ = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 0], userID: user))
        _ = try await queue.submit(JobSubmission(kind: .noop))
        _ = try await submit(.image, ["prompt": "a loose sketch"])
        _ = try await submit(.storyboard, ["brief": "b"])
    }

    @Test func aReplayedSubmitIsNotHeldToRulesItsFirstSubmitMet() async throws {
        let scenes = try await storyboard(scenes: 1)
        try await asset("image", role: "hero")
        let args: JSONValue = ["prompt": "f", "role": "start_frame", "scene_id": .string(scenes[0].lowercasedText)]
        let first = try await queue.submit(JobSubmission(kind: .image, args: args, projectID: project, idempotencyKey: "frame-1"))
        // A new storyboard replaced the scenes since.
        try await database.query("delete from scenes where project_id = $1::uuid", [project])
        let again = try await queue.submit(JobSubmission(kind: .image, args: args, projectID: project, idempotencyKey: "frame-1"))
        #expect(again.jobID == first.jobID && !again.created)
    }

    @Test func anExportLargerThanTheTierAllowsIsRefused() async throws {
        _ = try await storyboard(scenes: 1)
        try await asset("timeline", role: "timeline")
        await expectRefused(.export, ["height": 1080], "args.height: the free tier exports at most 720p (asked for 1080p)")
        _ = try await submit(.export, ["height": 720])
        try await database.query("update subscriptions set tier = 'enterprise', limits = '{\"max_export_height\": 4320}' where user_id = $1::uuid", [user])
        _ = try await submit(.export, ["height": 4320])
        await expectRefused(.export, ["height": "big"], "args.height: expected a whole number")
    }

    @Test func regeneratingAnEarlierStepMarksTheLaterStepsStaleAndKeepsTheirAssets() async throws {
        let scene = try await storyboard(scenes: 1)[0]
        try await database.query(
            """
            insert into workflow_steps (user_id, project_id, step, state, job_count, jobs_done)
            select $1::uuid, $2::uuid, s, 'completed', 1, 1 from unnest(enum_range(null::workflow_step)) s
            """, [user, project])
        try await asset("image", role: "hero")
        // What the steps after the hero shot made: frames, a clip, a voiceover, the timeline and
        // the film. Regenerating the hero shot must leave every one of them as it was.
        let later = [
            try await asset("image", role: "start_frame", scene: scene),
            try await asset("image", role: "end_frame", scene: scene),
            try await asset("video", role: "clip", scene: scene),
            try await asset("audio", role: "voiceover"),
            try await asset("timeline", role: "timeline"),
            try await asset("export", role: "film"),
        ]
        let rows = "select id, kind, role, scene_id, storage_key from assets where project_id = $1::uuid order by id"
        func snapshot() async throws -> [String] {
            try await database.query(rows, [project]).map { row in
                [try row.string("id"), try row.string("kind"), try row.optionalString("role") ?? "-",
                 try row.optionalString("scene_id") ?? "-", try row.string("storage_key")].joined(separator: " ")
            }
        }
        let before = try await snapshot()
        #expect(before.count == later.count + 1)

        let hero = try await submit(.image, ["prompt": "a new hero", "role": "hero"])
        // Submitting changes nothing yet; the new hero shot exists once its job completes.
        #expect(try await database.query("select count(*) as n from workflow_steps where state = 'stale'")[0].int("n") == 0)
        let claimed = try await queue.claim(owner: "n", limit: 10, lease: .seconds(30))
        #expect(claimed.map(\.id) == [hero])
        try await queue.complete([(queue.lease(of: hero), [:])])

        let progress = try await database.query(
            "select step::text as name, state::text as state, fraction from workflow_progress where project_id = $1::uuid order by step",
            [project]
        ).map { (try $0.string("name"), try $0.string("state"), try $0.double("fraction")) }
        #expect(progress.map(\.0) == WorkflowStep.allCases.map(\.rawValue))
        #expect(progress.map(\.1) == ["completed", "completed", "completed", "stale", "stale", "stale", "stale", "stale"])
        #expect(progress.prefix(3).allSatisfy { $0.2 == 1 })
        // The stale steps' assets are all still there, unchanged, and still in their scene.
        let after = try await snapshot()
        #expect(after == before)
        let kept = try await database.query("select count(*) as n from assets where id = any($1::uuid[])", [SQLArray(later)])[0].int("n")
        #expect(kept == later.count)
    }
}
