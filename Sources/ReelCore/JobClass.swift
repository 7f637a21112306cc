/// What a job's limits are counted in: a tier allows so many concurrent jobs and so many a
/// minute per class. The same names are `reeld.job_kinds.job_class` and `jobs.job_class` in SQL.
public enum JobClass: String, Sendable, Codable, CaseIterable {
    /// Not limited by class: workflow runs (their children are), system jobs.
    case none
    /// Text and image generation.
    case textImage = "text_image"
    case video
    case audio
    case render

    /// The classes a tier limits.
    public static let limited: [JobClass] = [.textImage, .video, .audio, .render]
}
