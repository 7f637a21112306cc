/// Where a job is in its life. The same names are the `reeld.job_state` enum in SQL.
public enum JobState: String, Sendable, Codable, CaseIterable {
    /// Queued, possibly scheduled for later (`run_at`).
    case available
    /// Leased by a node and being worked on.
    case running
    /// Snoozed while a provider works; woken by a callback or the poll timer. Spends no attempt.
    case waiting
    /// Failed an attempt, will run again after its backoff.
    case retryable
    case completed
    case failed
    case cancelled

    /// A final state never changes again; only pruning removes the row.
    public var isFinal: Bool {
        switch self {
        case .completed, .failed, .cancelled: true
        default: false
        }
    }
}
