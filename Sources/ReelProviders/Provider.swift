import ReelCore

/// One interface for every generation service: OpenAI, Google, Kling, ElevenLabs, and `local`.
///
/// Adapters know their provider's wire format, not the queue: the engine calls `generate`,
/// and if the provider answers with a task (video is asynchronous almost everywhere), stores the
/// task, snoozes the job, and calls `poll` when a callback or the poll timer wakes it.
public protocol Provider: Sendable {
    /// The provider's name in config, job args and logs: "local", "openai", "google", "kling", "elevenlabs".
    var name: String { get }
    /// What this provider can make.
    var capabilities: Set<GenerationKind> { get }

    /// Starts a generation. `request.externalID` is stable across retries and recoveries: an
    /// adapter sends it where the provider accepts a client reference, and `lookup` uses it to
    /// find a task that was submitted before a crash, so a generation is paid for once.
    func generate(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome

    /// Asks about a task that `generate` returned as pending. The engine also polls a task it
    /// recorded before a crash or a hand-back, instead of calling `generate` again: an adapter
    /// whose provider can look tasks up polls it; one that no longer knows the task and can
    /// start the work again at no cost (`local`) does so; any other throws.
    func poll(_ task: ProviderTask, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome

    /// What an attempt does with a generation of `kind` whose create call may or may not have
    /// reached the provider (it crashed or lost its lease before the task id was recorded).
    func recoveryRule(for kind: GenerationKind) -> RecoveryRule

    /// The task the provider made for `externalID`, or nil if it never accepted one; asked only
    /// under ``RecoveryRule/lookUp``. Throws when the provider cannot answer now (retried).
    func lookup(externalID: String, request: GenerationRequest, context: GenerationContext) async throws -> ProviderTask?

    /// Asks the provider to stop `task`, whose job was cancelled while the provider worked on
    /// it, so that it stops making (and billing) what nobody will collect. A task the provider
    /// no longer has counts as stopped. Throws when the provider cannot be reached now (retried).
    func cancel(_ task: ProviderTask, context: GenerationContext) async throws
}

extension Provider {
    /// An adapter that says nothing risks no second payment: the job fails as "outcome unknown".
    public func recoveryRule(for kind: GenerationKind) -> RecoveryRule { .outcomeUnknown }

    /// No lookup: an adapter with ``RecoveryRule/lookUp`` must implement it.
    public func lookup(externalID: String, request: GenerationRequest, context: GenerationContext) async throws -> ProviderTask? {
        throw ReelCore.JobError.permanent("provider \(name) cannot look up tasks by their external id")
    }

    /// No cancel at this provider: the task runs on there and is abandoned; the line names it
    /// (the caller's logger carries the generation id) for an operator who wants to stop it by hand.
    public func cancel(_ task: ProviderTask, context: GenerationContext) async throws {
        context.logger.warning("Task abandoned at the provider, which has no cancel",
                               metadata: ["provider": "\(name)", "task": "\(task.id)"])
    }
}
