/// Where a generation's provider call stands; `public.generations.state` allows exactly these.
enum GenerationState: String, Sendable, CaseIterable {
    /// The row exists and its id is the external id; nothing was accepted by a provider yet.
    case pending
    /// The provider accepted the work and its task id is recorded.
    case submitted
    case completed
    case failed
}
