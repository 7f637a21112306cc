import Foundation
import Logging
import ReelCore
import ReelDB
import ReelProviders
import ReelQueue
import ReelStorage

/// Runs every provider-backed kind (storyboard, image, video, speech, music, effects).
///
/// A generation is paid for once: its row (whose id is the external id providers see) exists
/// before the provider is called; a pending task is kept in the job's snooze state and on the
/// generation row, and polled, never submitted again, also by an attempt that follows a crash
/// or a hand-back before the snooze was recorded; a generation already completed before a
/// crash returns its output.
struct GenerationHandler: JobHandler {
    let kind: GenerationKind
    let store: StudioStore
    let storage: MediaStorage
    let providers: ProviderRegistry
    /// Parent of per-job scratch directories, on the same filesystem as storage when possible.
    let scratchRoot: URL

    func run(_ job: ClaimedJob, context: JobContext) async throws -> JobOutcome {
        guard let project = job.projectID else { throw JobError.permanent("project_id: required for \(job.kind)") }
        let user = try await job.userID.orLoad { try await store.projectOwner(project) }
        let args = job.args
        let route = Self.routeRequest(job)
        let provider: any Provider
        switch try choose(job, route: route) {
        case .run(let chosen):
            provider = chosen
        case .move(let chosen):
            // Queued on another provider (the default one at submit): back to the queue on the
            // router's choice, so that its limits and fair share count the job from the next claim.
            context.logger.info("Routed to another provider than the one the job was queued on",
                                metadata: ["from": "\(job.provider ?? "none")", "to": "\(chosen)"])
            return .handBack(provider: chosen, reason: nil, state: Self.routedState)
        }
        let scene = try args.uuid("scene_id")
        let role = try args["role"]?.stringValue.map { text in
            guard let role = AssetRole(rawValue: text) else { throw JobError.permanent("args.role: \(text) is not an asset role") }
            return role
        } ?? Self.defaultRole(kind)
        let generation = try await store.generation(
            job: job.id, user: user, project: project, scene: scene, kind: kind.rawValue, provider: provider.name,
            model: args["model"]?.stringValue, prompt: Self.prompt(kind, args), params: args)
        if generation.state == .completed, let output = generation.output {
            context.logger.info("Generation already completed before; returning its output")
            return .completed(output)
        }
        var request = try await makeRequest(job: job, generation: generation.id)
        request.earlierCallSentAt = generation.submittingAt
        let workDirectory = scratchRoot.appendingPathComponent(job.id.lowercasedText)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        let generationContext = GenerationContext(workDirectory: workDirectory, logger: context.logger)

        let outcome: GenerationOutcome
        do {
            var taskID = Self.recordedTask(snoozeState: job.snoozeState, generation: generation)
            if taskID == nil, generation.state == .submitting {
                taskID = try await recover(generation: generation.id, provider: provider, request: request, context: generationContext)
            }
            if let taskID {
                if job.snoozeState?["task_id"] == nil {
                    context.logger.info("Polling the provider task recorded before this attempt", metadata: ["task": "\(taskID)"])
                }
                outcome = try await provider.poll(ProviderTask(provider: provider.name, id: taskID), request: request, context: generationContext)
            } else {
                try await store.markSubmitting(generation: generation.id)
                do {
                    outcome = try await provider.generate(request, context: generationContext)
                } catch {
                    guard let notAccepted = Self.notAccepted(error) else { throw error }
                    try await store.markNotSubmitted(generation: generation.id)
                    // Only a provider that could not be reached or failed on its side (transient)
                    // moves the job: a request it refused (a 4xx, permanent) would be refused or,
                    // worse, made and billed elsewhere, and a 429 throttles the provider for all
                    // jobs instead. A call this attempt's own cancel ended unsent (a shutdown, a
                    // lost lease, the job's cancel) says nothing about the provider either.
                    guard notAccepted.failureClass == .transient, !Task.isCancelled, Self.isRouted(job),
                          let next = providers.router.fallback(after: provider.name, for: route, certainlyNotAccepted: true)
                    else { throw notAccepted }
                    // Nothing was started at `provider`: the job moves to the next provider of
                    // its route for real (the generation and the job's provider both change), not
                    // inside this attempt, so the old provider's room is freed and the new one's
                    // limits hold it back if it is full.
                    try await store.moveGeneration(generation.id, to: next)
                    context.logger.warning("Provider did not take the call; falling back to the next provider of the route",
                                           metadata: ["from": "\(provider.name)", "to": "\(next)", "reason": "\(notAccepted.message)"])
                    try? FileManager.default.removeItem(at: workDirectory)
                    return .handBack(provider: next, reason: "falling back from \(provider.name) to \(next): \(notAccepted.message)",
                                     state: Self.routedState)
                }
            }
        } catch let unknown as OutcomeUnknown {
            throw JobError.permanent(unknown.message, detail: ["generation_id": .string(generation.id.lowercasedText)])
        } catch let error as JobError where error.failureClass == .permanent {
            try? await store.markFailed(generation: generation.id, error: error.message)
            throw error
        }

        switch outcome {
        case .pending(let task, let pollAfter):
            try await store.markSubmitted(generation: generation.id, taskID: task.id)
            context.logger.debug("Provider is working; snoozing", metadata: ["task": "\(task.id)"])
            // The generation id lets a cancel of the waiting job name it when it reaches the provider.
            var state: [String: JSONValue] = [
                "task_id": .string(task.id), "provider": .string(task.provider), "generation_id": .string(generation.id.lowercasedText),
            ]
            if Self.isRouted(job) { state["routed"] = true }
            return .snooze(after: pollAfter, state: .object(state))
        case .finished(let result):
            defer { try? FileManager.default.removeItem(at: workDirectory) }
            return .completed(try await finish(result, job: job, user: user, project: project, scene: scene, role: role,
                                               generation: generation.id, provider: provider.name))
        }
    }

    /// Where this attempt runs: on a provider, or back to the queue on another one.
    enum Choice {
        case run(any Provider)
        case move(String)
    }

    /// A job that names `args.provider` runs there (and never falls back: the user asked for
    /// it), unless its args also say `routed: true` (the workflow's children, whose provider the
    /// router chose at submit). Any other job is routed: a task in hand is polled where it was
    /// made; a job the router placed before (at submit, at its first run, or by a fallback)
    /// stays on its provider while that is still one of its route's candidates; otherwise the
    /// route's first candidate takes it, handed back to the queue if the job was queued elsewhere.
    func choose(_ job: ClaimedJob, route: RouteRequest) throws -> Choice {
        if let taskProvider = job.snoozeState?["task_id"] != nil ? job.snoozeState?["provider"]?.stringValue : nil {
            return .run(try providers.provider(named: taskProvider))
        }
        guard Self.isRouted(job) else { return .run(try providers.provider(named: route.provider)) }
        let candidates: [String]
        do {
            candidates = try providers.router.candidates(for: route)
        } catch {
            throw JobError.permanent("\(job.kind): \(error)")
        }
        let placed = job.args["routed"] == .bool(true) || job.snoozeState?["routed"] == .bool(true)
        if let current = job.provider, current == candidates[0] || (placed && candidates.contains(current)) {
            return .run(try providers.provider(named: current))
        }
        return .move(candidates[0])
    }

    /// What routing needs from a job's args; `args.provider` only when the user chose it.
    static func routeRequest(_ job: ClaimedJob) -> RouteRequest {
        let args = job.args
        func given(_ key: String) -> Bool { args[key].map { $0 != .null } ?? false }
        return RouteRequest(
            kind: job.kind, provider: isRouted(job) ? nil : args["provider"]?.stringValue,
            needsEndFrame: given("end_asset_id"), needsNativeAudio: args["native_audio"] == .bool(true))
    }

    /// Whether reeld chooses the job's provider (and may move it to the next one): the job names
    /// none, or its provider was written by the router (`args.routed`).
    static func isRouted(_ job: ClaimedJob) -> Bool {
        job.args["provider"]?.stringValue == nil || job.args["routed"] == .bool(true)
    }

    /// Kept in the snooze state once the router has placed a job, so that a later attempt does
    /// not route it again from the top of its list.
    static let routedState: JSONValue = ["routed": true]

    /// The error of a call the provider certainly did not take, nil for any other error.
    static func notAccepted(_ error: any Error) -> JobError? {
        if let wrapped = error as? RequestNotAccepted { return wrapped.error }
        if let jobError = error as? JobError, jobError.certainlyNotAccepted { return jobError }
        return nil
    }

    /// A generation left `submitting` by an attempt that ended before it recorded a task id:
    /// the provider's rule says whether to call again (nil), which task to poll, or to fail the
    /// job as "outcome unknown" (permanent, so its reserved credits are released uncharged).
    private func recover(generation: UUID, provider: any Provider, request: GenerationRequest,
                         context: GenerationContext) async throws -> String? {
        let logger = context.logger
        switch provider.recoveryRule(for: kind) {
        case .resubmit:
            logger.info("Calling the provider again for a generation whose earlier call went unrecorded",
                        metadata: ["generation": "\(generation.lowercasedText)"])
            return nil
        case .lookUp:
            let found: ProviderTask?
            do {
                found = try await provider.lookup(externalID: request.externalID, request: request, context: context)
            } catch let unknown as TaskNotIdentified {
                try await outcomeUnknown(generation: generation, provider: provider, why: unknown.reason, logger: logger)
            }
            guard let task = found else {
                logger.info("The provider has no task for this generation; calling it again",
                            metadata: ["generation": "\(generation.lowercasedText)"])
                return nil
            }
            try await store.markSubmitted(generation: generation, taskID: task.id)
            return task.id
        case .outcomeUnknown:
            try await outcomeUnknown(generation: generation, provider: provider, why: "which cannot be asked about it", logger: logger)
        }
    }

    /// Fails the job without charge, leaving the generation `outcome_unknown` with the reason,
    /// and logs it for an operator to settle with the provider.
    private func outcomeUnknown(generation: UUID, provider: any Provider, why: String, logger: Logger) async throws -> Never {
        let message = "outcome unknown: an earlier attempt may have started generation \(generation.lowercasedText) at \(provider.name), "
            + "\(why); not submitted again and not charged"
        try await store.markOutcomeUnknown(generation: generation, error: message)
        logger.error("Generation outcome unknown; an operator must check it with the provider",
                     metadata: ["generation": "\(generation.lowercasedText)", "provider": "\(provider.name)"])
        // Not marked failed by the caller: the row keeps saying outcome_unknown.
        throw OutcomeUnknown(message: message)
    }

    /// The provider task this generation already has: the one the job snoozed on, else the one
    /// recorded on the generation when the provider accepted the work (an attempt that crashed
    /// or was handed back before its snooze was committed leaves no snooze state).
    static func recordedTask(snoozeState: JSONValue?, generation: StudioStore.Generation) -> String? {
        if let taskID = snoozeState?["task_id"]?.stringValue { return taskID }
        return generation.state == .submitted ? generation.providerTaskID : nil
    }

    /// Stores the files, then records assets, the generation, its usage and what it cost in one
    /// transaction.
    private func finish(_ result: GenerationResult, job: ClaimedJob, user: UUID, project: UUID, scene: UUID?, role: AssetRole,
                        generation: UUID, provider: String) async throws -> JSONValue {
        if kind == .text, let storyboard = result.json {
            _ = try await store.saveStoryboard(project: project, user: user, storyboard: storyboard)
        }
        var stored: [StoredMedia] = []
        for (index, file) in result.files.enumerated() {
            let suffix = result.files.count > 1 ? "-\(index)" : ""
            let name = "\(role.rawValue)-\(generation.uuidString.prefix(8).lowercased())\(suffix).\(file.url.pathExtension.isEmpty ? "bin" : file.url.pathExtension)"
            stored.append(try await storage.store(file.url, project: project, name: name, mimeType: file.mimeType))
        }
        let assetKind = Self.assetKind(kind)
        let notes = result.notes
        let model = result.model
        let json = result.json
        let usage = result.usage
        let assetIDs = try await store.database.transaction { [store, stored] conn -> [UUID] in
            let ids = try stored.map {
                try store.recordAsset($0, user: user, project: project, scene: scene, kind: assetKind, role: role, on: conn)
            }
            var output: [String: JSONValue] = [
                "generation_id": .string(generation.lowercasedText),
                "asset_ids": .array(ids.map { .string($0.lowercasedText) }),
                "model": .string(model), "notes": .array(notes.map { .string($0) }),
            ]
            if let first = ids.first { output["asset_id"] = .string(first.lowercasedText) }
            if let json { output["json"] = json }
            try store.completeGeneration(generation, asset: ids.first, output: .object(output), model: model, on: conn)
            try store.recordUsage(usage, user: user, generation: generation, provider: provider, model: model, job: job, on: conn)
            return ids
        }
        var result: [String: JSONValue] = [
            "generation_id": .string(generation.lowercasedText),
            "asset_ids": .array(assetIDs.map { .string($0.lowercasedText) }),
            "model": .string(model),
        ]
        if let first = assetIDs.first { result["asset_id"] = .string(first.lowercasedText) }
        if !notes.isEmpty { result["notes"] = .array(notes.map { .string($0) }) }
        return .object(result)
    }

    func makeRequest(job: ClaimedJob, generation: UUID) async throws -> GenerationRequest {
        let args = job.args
        var request = GenerationRequest(kind: kind, model: args["model"]?.stringValue, prompt: Self.prompt(kind, args),
                                        externalID: generation.lowercasedText)
        request.width = args["width"]?.intValue.map(Int.init)
        request.height = args["height"]?.intValue.map(Int.init)
        request.durationSeconds = args["duration_seconds"]?.doubleValue
        request.voice = args["voice"]?.stringValue
        request.seed = UInt64(truncatingIfNeeded: SeededHash.fnv1a(job.projectID?.uuidString ?? ""))
        if kind == .text, let scenes = args["scenes"]?.intValue {
            request.responseSchema = ["properties": ["scenes": ["minItems": .int(scenes), "maxItems": .int(scenes)]]]
        }
        if let reference = try args.uuid("reference_asset_id") { request.referenceImages = [try await assetURL(reference, "reference_asset_id", of: job)] }
        if let start = try args.uuid("start_asset_id") { request.startFrame = try await assetURL(start, "start_asset_id", of: job) }
        if let end = try args.uuid("end_asset_id") { request.endFrame = try await assetURL(end, "end_asset_id", of: job) }
        return request
    }

    /// Where an asset named by the job's args is stored; only the job's own project's assets.
    private func assetURL(_ id: UUID, _ field: String, of job: ClaimedJob) async throws -> URL {
        guard let project = job.projectID, let asset = try await store.asset(id: id, project: project) else {
            throw JobError.permanent("args.\(field): no asset \(id.lowercasedText) in the job's project")
        }
        return try storage.url(forKey: asset.storageKey)
    }

    static func prompt(_ kind: GenerationKind, _ args: JSONValue) -> String {
        switch kind {
        case .text: args["brief"]?.stringValue ?? ""
        case .speech: args["text"]?.stringValue ?? ""
        default: args["prompt"]?.stringValue ?? ""
        }
    }

    static func defaultRole(_ kind: GenerationKind) -> AssetRole {
        switch kind {
        case .text: .storyboard
        case .image: .image
        case .video: .clip
        case .speech: .voiceover
        case .music: .music
        case .soundEffect: .soundEffect
        }
    }

    static func assetKind(_ kind: GenerationKind) -> AssetKind {
        switch kind {
        case .text: .text
        case .image: .image
        case .video: .video
        case .speech, .music, .soundEffect: .audio
        }
    }
}

/// A generation whose create call may have reached a provider that cannot be asked about it.
private struct OutcomeUnknown: Error {
    var message: String
}
