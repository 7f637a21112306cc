import ReelCore

/// The `args` each job kind takes, and what else it needs at the top level of a job file.
///
/// This table is the single source of truth for the spool's validation and for
/// `config/job-file.schema.json`; a kind not in it is refused.
struct KindArguments: Sendable {
    var kind: JobKind
    /// Fields of `args` besides the ones every kind may carry (`commonRules`).
    var rules: [ArgumentRule]
    /// Kinds that work on a project's assets need `project_id` beside `args`
    /// (`reeld.job_kinds.needs_project`).
    var requiresProjectID = false
    /// Kinds that act for someone need `user_id` or `project_id`, whose owner it then is
    /// (`reeld.job_kinds.needs_user`): a workflow run makes a project, which must belong to a user.
    var requiresOwner = false

    /// Every kind may name the provider and model to use; the engine picks when absent.
    static let commonRules: [ArgumentRule] = [
        .optional("provider", .string(length: 1...Int.max)),
        .optional("model", .string(length: 1...Int.max)),
    ]

    /// All rules for this kind's `args`, the common ones included.
    var allRules: [ArgumentRule] { rules + Self.commonRules }

    private static let text = ArgumentRule.ValueType.string(length: 1...Int.max)
    /// A side of a picture: at most 4096, so that width × height stays within
    /// `MediaLimits.picturePixels` (4096 × 4096), the largest picture the renderer takes.
    private static let dimension = ArgumentRule.ValueType.integer(1...4096)
    private static let audioDuration = ArgumentRule.ValueType.number(0...3600)
    private static let jobClass = ArgumentRule.ValueType.oneOf(JobClass.allCases.map(\.rawValue))

    static let table: [JobKind: KindArguments] = {
        let kinds = [
            // `class`: the job class whose limits a test or benchmark job counts against.
            KindArguments(kind: .noop, rules: [.optional("class", jobClass)]),
            KindArguments(kind: .sleep, rules: [.required("seconds", .number(0...86400)), .optional("class", jobClass)]),
            KindArguments(kind: .workflowRun, rules: [
                .required("brief", .string(length: 1...4000)),
                .optional("scenes", .integer(1...12)),
                .optional("title", .string(length: nil)),
            ], requiresOwner: true),
            KindArguments(kind: .storyboard, rules: [.required("brief", text)], requiresProjectID: true),
            KindArguments(kind: .image, rules: [
                .required("prompt", text),
                .optional("reference_asset_id", .uuid),
                .optional("width", dimension),
                .optional("height", dimension),
                .optional("scene_id", .uuid),
                .optional("role", .oneOf(["hero", "start_frame", "end_frame"])),
            ], requiresProjectID: true),
            KindArguments(kind: .video, rules: [
                .required("prompt", text),
                .optional("start_asset_id", .uuid),
                .optional("end_asset_id", .uuid),
                .optional("duration_seconds", .number(1...60)),
                .optional("scene_id", .uuid),
            ], requiresProjectID: true),
            KindArguments(kind: .speech, rules: [
                .required("text", .string(length: 1...5000)),
                .optional("voice", .string(length: 1...Int.max)),
            ], requiresProjectID: true),
            KindArguments(kind: .music, rules: [.required("prompt", text), .optional("duration_seconds", audioDuration)], requiresProjectID: true),
            KindArguments(kind: .soundEffect, rules: [.required("prompt", text), .optional("duration_seconds", audioDuration)], requiresProjectID: true),
            KindArguments(kind: .edit, rules: [], requiresProjectID: true),
            KindArguments(kind: .export, rules: [
                .optional("timeline_asset_id", .uuid),
                .optional("format", .oneOf(["mp4", "webm"])),
                // The film's height (its width follows the timeline's aspect); at most the
                // user's tier allows (max_export_height), checked by reeld.submit_job.
                .optional("height", dimension),
            ], requiresProjectID: true),
        ]
        return Dictionary(uniqueKeysWithValues: kinds.map { ($0.kind, $0) })
    }()

    /// The known kinds in `JobKind.all` order (stable for messages and the schema).
    static var knownKinds: [JobKind] { JobKind.all.filter { table[$0] != nil } }
}
