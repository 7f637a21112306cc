import Logging
import ReelCore

/// The start and end lines of one attempt, logged with the job's fields (`job_id`, `job_kind`,
/// `attempt`, `project_id`) and, at the end, its state and duration.
///
/// Made only when the worker's logger logs at the attempt's level: `init` returns nil
/// otherwise, so that a drain of system jobs at the default level builds no metadata and reads
/// no clock.
struct AttemptStory {
    /// A user's job at info; a system job (no user) at debug.
    let level: Logger.Level
    let logger: Logger
    let provider: String?
    let start: ContinuousClock.Instant

    init?(job: ClaimedJob, logger base: Logger) {
        let level: Logger.Level = job.userID == nil ? .debug : .info
        guard base.logLevel <= level else { return nil }
        self.level = level
        logger = JobContext.logger(base, for: job)
        provider = job.provider
        start = .now
    }

    func started() {
        logger.log(level: level, "Job attempt started", metadata: provider.map { ["provider": "\($0)"] })
    }

    /// `state`: where the attempt left the job (`completed`, `waiting`, `retryable`, `failed`,
    /// `cancelled`, `handed back`, or `lease lost` when another attempt had taken it over).
    func ended(_ state: String) {
        let elapsed = ContinuousClock.now - start
        var metadata: Logger.Metadata = [
            "state": "\(state)",
            "duration_ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
        ]
        if let provider { metadata["provider"] = "\(provider)" }
        logger.log(level: level, "Job attempt ended", metadata: metadata)
    }
}
