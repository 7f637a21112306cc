/// Where a generation's provider call stands; `public.generations.state` allows exactly these.
enum GenerationState: String, Sendable, CaseIterable {
    /// The row exists and its id is the external id; no call has gone out.
    case pending
    /// The create call is going out or went out, and no task id is recorded: whether the
    /// provider accepted it is unknown until then. An attempt that finds this follows the
    /// provider's `RecoveryRule`.
    case submitting
    /// The provider accepted the work and its task id is recorded.
    case submitted
    case completed
    case failed
    /// Found submitting where the provider can neither be asked nor safely called again: the
    /// job failed without charge; an operator settles it with the provider.
    case outcomeUnknown = "outcome_unknown"
}
