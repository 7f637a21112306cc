import Foundation
import ReelCore
import ReelDB
import ReelProviders
import ReelQueue
import ReelRender
import ReelStorage

/// The studio's rows as the handlers need them: projects, scenes, assets, generations, usage
/// and workflow steps. One place per query; every statement binds its parameters.
struct StudioStore: Sendable {
    let database: Database

    /// An asset row as handlers use it.
    struct Asset: Sendable {
        var id: UUID
        var role: AssetRole?
        var sceneID: UUID?
        var storageKey: String
        var durationSeconds: Double?
        /// From the probe recorded with the asset.
        var hasVideo = false
        var hasAudio = false
    }

    /// A scene row.
    struct Scene: Sendable {
        var id: UUID
        var index: Int
        var title: String
        var narration: String
        var startFramePrompt: String
        var endFramePrompt: String
        var durationSeconds: Double
    }

    /// A generation row: the stable external id and where it got to.
    struct Generation: Sendable {
        var id: UUID
        var state: GenerationState
        var output: JSONValue?
        /// The provider's task, recorded once the provider accepted the work (`submitted`).
        var providerTaskID: String?
        /// When the create call went out (the row became `submitting`); nil before any did.
        var submittingAt: Date?
    }

    // MARK: Projects and scenes

    func createProject(user: UUID, title: String, brief: String) async throws -> UUID {
        try await database.query(
            "insert into public.projects (user_id, title, brief) values ($1::uuid, $2, $3) returning id", [user, title, brief]
        )[0].uuid("id")
    }

    /// Attaches a project to a job that created it (a workflow run started without one).
    func setJobProject(job: UUID, project: UUID) async throws {
        try await database.query("update public.jobs set project_id = $2::uuid where id = $1::uuid", [job, project])
    }

    func projectOwner(_ project: UUID) async throws -> UUID {
        let rows = try await database.query("select user_id from public.projects where id = $1::uuid", [project])
        guard let row = rows.first else { throw JobError.permanent("project \(project) does not exist") }
        return try row.uuid("user_id")
    }

    /// The largest film height the user's tier allows (enterprise overrides applied) and the tier.
    func exportAllowance(user: UUID) async throws -> (tier: String, maxHeight: Int) {
        let row = try await database.query("select tier::text as tier, max_export_height from reeld.user_allowance($1::uuid)", [user])[0]
        return (try row.string("tier"), try row.int("max_export_height"))
    }

    /// Saves the storyboard on the project and replaces its scenes, in one transaction.
    func saveStoryboard(project: UUID, user: UUID, storyboard: JSONValue) async throws -> [UUID] {
        try await database.transaction { conn in
            try conn.query("update public.projects set storyboard = $2::jsonb, title = coalesce($3, title), updated_at = now() where id = $1::uuid",
                           [project, storyboard, storyboard["title"]?.stringValue])
            try conn.query("delete from public.scenes where project_id = $1::uuid", [project])
            var ids: [UUID] = []
            for (position, scene) in (storyboard["scenes"]?.arrayValue ?? []).enumerated() {
                let id = try conn.query(
                    """
                    insert into public.scenes (user_id, project_id, index, title, description, narration,
                                               start_frame_prompt, end_frame_prompt, duration_seconds)
                    values ($1::uuid, $2::uuid, $3::int, $4, $5, $6, $7, $8, $9::real) returning id
                    """,
                    [user, project, position, scene["title"]?.stringValue ?? "", scene["description"]?.stringValue ?? "",
                     scene["narration"]?.stringValue ?? "", scene["start_frame_prompt"]?.stringValue,
                     scene["end_frame_prompt"]?.stringValue, scene["duration_seconds"]?.doubleValue ?? 5])[0].uuid("id")
                ids.append(id)
            }
            return ids
        }
    }

    func storyboard(project: UUID) async throws -> JSONValue? {
        try await database.query("select storyboard from public.projects where id = $1::uuid", [project]).first?.optionalJSON("storyboard")
    }

    func scenes(project: UUID) async throws -> [Scene] {
        try await database.query(
            """
            select id, index, title, narration, coalesce(start_frame_prompt, description) as start_prompt,
                   coalesce(end_frame_prompt, description) as end_prompt, duration_seconds
            from public.scenes where project_id = $1::uuid order by index
            """, [project]
        ).map { row in
            Scene(id: try row.uuid("id"), index: try row.int("index"), title: try row.string("title"),
                  narration: try row.string("narration"), startFramePrompt: try row.string("start_prompt"),
                  endFramePrompt: try row.string("end_prompt"), durationSeconds: try row.double("duration_seconds"))
        }
    }

    // MARK: Assets

    /// The newest asset of a project with a role (and scene), if any.
    func asset(project: UUID, role: AssetRole, scene: UUID? = nil) async throws -> Asset? {
        try await database.query(
            """
            select id, role, scene_id, storage_key, duration_seconds, media from public.assets
            where project_id = $1::uuid and role = $2 and scene_id is not distinct from $3::uuid
            order by created_at desc limit 1
            """, [project, role.rawValue, scene]
        ).first.map(Self.asset)
    }

    /// The asset `id` if it belongs to `project`: a job reads only its own project's files,
    /// whatever asset ids its args or a timeline name (nil for another project's asset, as for
    /// one that does not exist).
    func asset(id: UUID, project: UUID) async throws -> Asset? {
        try await database.query(
            "select id, role, scene_id, storage_key, duration_seconds, media from public.assets where id = $1::uuid and project_id = $2::uuid",
            [id, project]
        ).first.map(Self.asset)
    }

    private static func asset(_ row: PostgresRow) throws -> Asset {
        let streams = try row.json("media")["streams"]?.arrayValue ?? []
        let types = Set(streams.compactMap { $0["type"]?.stringValue })
        let id = try row.uuid("id")
        let duration = try row.optionalDouble("duration_seconds")
        // The row may have been written by anyone who can write the table: a length that is not
        // a length fails the job that reads it, with the asset named, before any frame is counted.
        if let duration, !duration.isFinite || duration < 0 || duration > Timeline.maxSeconds {
            throw JobError.permanent("asset \(id.lowercasedText): duration_seconds \(duration) is not a length (0 to \(Int(Timeline.maxSeconds)) s)")
        }
        return Asset(
            id: id, role: try row.optionalString("role").flatMap(AssetRole.init(rawValue:)), sceneID: try row.optionalUUID("scene_id"),
            storageKey: try row.string("storage_key"), durationSeconds: duration,
            hasVideo: types.contains("video"), hasAudio: types.contains("audio"))
    }

    /// Records a stored file as an asset.
    func recordAsset(_ stored: StoredMedia, user: UUID, project: UUID, scene: UUID?, kind: AssetKind, role: AssetRole?,
                     on conn: PostgresConnection) throws -> UUID {
        let file = stored.file
        let media: JSONValue = try stored.media.map { try JSONValue(parsing: JSONEncoder().encode($0)) } ?? [:]
        return try conn.query(
            """
            insert into public.assets (user_id, project_id, scene_id, kind, role, storage_key, mime_type, size_bytes,
                                       sha256, duration_seconds, width, height, media)
            values ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8::bigint, $9, $10::double precision, $11::int, $12::int, $13::jsonb)
            returning id
            """,
            [user, project, scene, kind.rawValue, role?.rawValue, file.key, file.mimeType, file.sizeBytes, file.sha256,
             stored.media?.durationSeconds, stored.media?.width, stored.media?.height, media])[0].uuid("id")
    }

    // MARK: Generations

    /// The job's generation row, created on first use. Its id is the stable external id that
    /// providers see, recorded before anything is submitted to them.
    func generation(job: UUID, user: UUID, project: UUID, scene: UUID?, kind: String, provider: String,
                    model: String?, prompt: String, params: JSONValue) async throws -> Generation {
        let row = try await database.query(
            """
            with made as (
                insert into public.generations (user_id, project_id, scene_id, job_id, kind, provider, model, prompt, params)
                values ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5, $6, $7, $8, $9::jsonb)
                on conflict (job_id) do nothing
                returning id, state, output, provider_task_id, extract(epoch from submitting_at) as submitting_at
            )
            select id, state, output, provider_task_id, submitting_at from made
            union all
            select id, state, output, provider_task_id, extract(epoch from submitting_at) as submitting_at from public.generations where job_id = $4::uuid
            limit 1
            """, [user, project, scene, job, kind, provider, model, prompt, params])[0]
        let stateText = try row.string("state")
        guard let state = GenerationState(rawValue: stateText) else {
            throw JobError.permanent("generation \(try row.uuid("id")) is in an unknown state \(stateText)")
        }
        return Generation(id: try row.uuid("id"), state: state, output: try row.optionalJSON("output"),
                          providerTaskID: try row.optionalString("provider_task_id"), submittingAt: try row.optionalEpochDate("submitting_at"))
    }

    func markSubmitted(generation: UUID, taskID: String) async throws {
        try await database.query(
            "update public.generations set state = $3, provider_task_id = $2 where id = $1::uuid and state in ($4, $5)",
            [generation, taskID, GenerationState.submitted.rawValue, GenerationState.pending.rawValue, GenerationState.submitting.rawValue])
    }

    /// Committed before the create call goes out, so that an attempt after a crash knows a call
    /// may have reached the provider, and since when.
    func markSubmitting(generation: UUID) async throws {
        try await database.query(
            "update public.generations set state = $2, submitting_at = now() where id = $1::uuid and state in ($3, $2)",
            [generation, GenerationState.submitting.rawValue, GenerationState.pending.rawValue])
    }

    /// The provider certainly did not take the call: the next attempt may call again.
    func markNotSubmitted(generation: UUID) async throws {
        try await database.query(
            "update public.generations set state = $2 where id = $1::uuid and state = $3",
            [generation, GenerationState.pending.rawValue, GenerationState.submitting.rawValue])
    }

    /// The job fell back to `provider` before any call was taken: the generation says where it goes now.
    func moveGeneration(_ generation: UUID, to provider: String) async throws {
        try await database.query(
            "update public.generations set provider = $2 where id = $1::uuid and state = $3",
            [generation, provider, GenerationState.pending.rawValue])
    }

    func markOutcomeUnknown(generation: UUID, error: String) async throws {
        try await database.query(
            "update public.generations set state = $3, error = $2 where id = $1::uuid and state = $4",
            [generation, error, GenerationState.outcomeUnknown.rawValue, GenerationState.submitting.rawValue])
    }

    /// Records a generation's output, inside the transaction that records its assets.
    func completeGeneration(_ generation: UUID, asset: UUID?, output: JSONValue, model: String, on conn: PostgresConnection) throws {
        try conn.query(
            """
            update public.generations set state = $5, asset_id = $2::uuid, output = $3::jsonb, model = $4,
                   completed_at = now() where id = $1::uuid
            """, [generation, asset, output, model, GenerationState.completed.rawValue])
    }

    /// What the usage costs (reeld.costs, by kind, model and unit) goes on the usage log and on
    /// the job, whose completion captures it from the reserve.
    func recordUsage(_ usage: Usage, user: UUID, generation: UUID, provider: String, model: String, job: ClaimedJob,
                     on conn: PostgresConnection) throws {
        try conn.query(
            """
            with usage as (
                insert into public.usage_logs (user_id, generation_id, provider, model, unit, units, credits)
                values ($1::uuid, $2::uuid, $3, $4, $5, $6::double precision,
                        reeld.usage_credits($7, $4, $5, $6::double precision))
                returning credits
            )
            update public.jobs set credits_used = (select credits from usage) where id = $8::uuid
            """,
            [user, generation, provider, model, usage.unit, usage.amount, job.kind.rawValue, job.id])
    }

    func markFailed(generation: UUID, error: String) async throws {
        try await database.query("update public.generations set state = $3, error = $2 where id = $1::uuid",
            [generation, error, GenerationState.failed.rawValue])
    }
}
