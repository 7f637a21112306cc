/// The answer to `generate` or `poll`.
public enum GenerationOutcome: Sendable {
    case finished(GenerationResult)
    /// Still working: snooze the job, poll again after `pollAfter` or when a callback arrives.
    case pending(ProviderTask, pollAfter: Duration)
}
