/// The kinds of job reeld runs. A kind names what to do; its `args` JSON says with what.
///
/// New kinds are added here and in `Migrations/` (`reeld.job_kinds`), which is where
/// `reeld.submit_job()` validates them, so the studio app and the spool are refused the same way.
public struct JobKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Does nothing; used by `reeld bench queue` and for smoke tests.
    public static let noop = JobKind("system.noop")
    /// Sleeps `args.seconds`, heartbeating; exercises leases, cancel and shutdown.
    public static let sleep = JobKind("system.sleep")
    /// Drives a whole film from a brief through the workflow steps.
    public static let workflowRun = JobKind("workflow.run")
    /// Storyboard and script from a brief (text with structured output).
    public static let storyboard = JobKind("text.storyboard")
    /// An image from text, optionally with a reference image.
    public static let image = JobKind("image.generate")
    /// A video clip from text or from start/end frames; asynchronous at the provider.
    public static let video = JobKind("video.generate")
    public static let speech = JobKind("audio.speech")
    public static let music = JobKind("audio.music")
    public static let soundEffect = JobKind("audio.sfx")
    /// Assembles the edit (the timeline) from a project's assets.
    public static let edit = JobKind("render.edit")
    /// Renders a timeline to a file.
    public static let export = JobKind("render.export")

    /// Asks a provider to stop the task of a job cancelled while the provider worked on it
    /// (`args.provider`, `args.task_id`, `args.generation_id`). Enqueued by the database when
    /// such a job ends cancelled, never submitted by users, so not in `all`.
    public static let providerCancel = JobKind("system.provider_cancel")

    public static let all: [JobKind] = [
        .noop, .sleep, .workflowRun, .storyboard, .image, .video, .speech, .music, .soundEffect, .edit, .export,
    ]
}
