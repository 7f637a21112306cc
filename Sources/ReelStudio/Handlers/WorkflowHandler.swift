import Foundation
import ReelCore
import ReelProviders
import ReelQueue

/// `workflow.run`: drives a film from a brief through the eight steps, each step its own jobs.
///
/// The handler is re-entrant and keeps no state of its own: each run reads the steps from
/// `workflow_steps`, submits the next step's children (idempotently: their keys name the run,
/// the step and its regeneration, so a crash between submit and bookkeeping submits nothing
/// twice, while a step marked stale runs again as new jobs), and snoozes.
/// A child that ends wakes it (a trigger sets the parent due), so steps follow each other at once.
struct WorkflowHandler: JobHandler {
    let store: StudioStore
    /// Chooses each child's provider when the run names none.
    let router: Router
    /// Fallback wake-up while children work; children normally wake the run sooner.
    let pollInterval: Duration

    func run(_ job: ClaimedJob, context: JobContext) async throws -> JobOutcome {
        guard let brief = job.args["brief"]?.stringValue, !brief.isEmpty else { throw JobError.permanent("args.brief: required") }
        let project: UUID
        let user: UUID
        if let existing = job.projectID {
            project = existing
            user = try await job.userID.orLoad { try await store.projectOwner(existing) }
        } else {
            guard let owner = job.userID else { throw JobError.permanent("user_id: workflow.run needs a user or a project") }
            user = owner
            project = try await store.createProject(user: owner, title: job.args["title"]?.stringValue ?? "Untitled", brief: brief)
            try await store.setJobProject(job: job.id, project: project)
        }
        try await store.ensureSteps(project: project, user: user)

        while true {
            let steps = try await store.steps(project: project)
            context.reportProgress(Double(steps.filter { $0.state == .completed }.count) / Double(max(steps.count, 1)))
            guard let current = steps.first(where: { $0.state != .completed }) else {
                return .completed(try await summary(job: job, project: project, steps: steps))
            }
            var logger = context.logger
            logger[metadataKey: "workflow_step"] = "\(current.step.rawValue)"
            switch current.state {
            case .failed:
                throw JobError.permanent("workflow step \(current.step.rawValue) failed")
            case .pending, .stale:
                let children = try await children(for: current, job: job, project: project, user: user)
                if children.isEmpty {
                    try await store.setStep(project: project, step: current.step, state: .completed, jobCount: 0, jobsDone: 0)
                    continue
                }
                do {
                    for child in children { _ = try await context.queue.submit(child) }
                } catch let refused as SubmitError {
                    // Refused by reeld.submit_job (credits, a tier's limit, a missing
                    // prerequisite): retrying would be refused again.
                    try await store.setStep(project: project, step: current.step, state: .failed, jobCount: children.count,
                                            jobsDone: 0, error: refused.description)
                    throw JobError.permanent("workflow step \(current.step.rawValue): \(refused.description)")
                }
                try await store.setStep(project: project, step: current.step, state: .running, jobCount: children.count, jobsDone: 0)
                logger.info("Workflow step started", metadata: ["jobs": "\(children.count)"])
                return .snooze(after: pollInterval, state: ["project_id": .string(project.lowercasedText)])
            case .running:
                let summary = try await store.children(of: job.id, step: current)
                if let error = summary.firstError {
                    try await store.setStep(project: project, step: current.step, state: .failed, jobsDone: summary.completed, error: error)
                    throw JobError.permanent("workflow step \(current.step.rawValue) failed: \(error)")
                }
                if summary.total > 0 && summary.completed == summary.total {
                    try await store.setStep(project: project, step: current.step, state: .completed, jobsDone: summary.completed)
                    logger.info("Workflow step completed")
                    continue
                }
                try await store.setStep(project: project, step: current.step, state: .running, jobsDone: summary.completed)
                return .snooze(after: pollInterval, state: ["project_id": .string(project.lowercasedText)])
            case .completed:
                continue
            }
        }
    }

    /// The jobs of one step, built from what the earlier steps produced.
    private func children(for row: StudioStore.StepRow, job: ClaimedJob, project: UUID, user: UUID) async throws -> [JobSubmission] {
        let step = row.step
        var made: [JobSubmission] = []
        func child(_ kind: JobKind, _ args: JSONValue) {
            made.append(JobSubmission(
                kind: kind, args: args, userID: user, projectID: project,
                idempotencyKey: StudioStore.childKey(parent: job.id, step: row, index: made.count),
                priority: job.priority, parentID: job.id))
        }
        let provider: JSONValue = job.args["provider"] ?? .null
        // The run's own provider wins; otherwise the routing table picks one per child, so that
        // a clip between two frames goes to a model that takes an end frame. The choice is
        // written into the child's args, where the claim's provider limits see it, with
        // `routed: true`, which tells the child's handler that the router chose it: a child
        // whose provider does not take the call falls back to the next one, as a direct job
        // that names no provider does, while a run's own provider is kept.
        func withProvider(_ kind: JobKind, _ args: [String: JSONValue]) throws -> JSONValue {
            var args = args
            if provider != .null {
                args["provider"] = provider
            } else {
                let request = RouteRequest(
                    kind: kind, needsEndFrame: args["end_asset_id"] != nil, needsNativeAudio: args["native_audio"] == .bool(true))
                do {
                    args["provider"] = .string(try router.candidates(for: request)[0])
                    args["routed"] = true
                } catch {
                    throw JobError.permanent("workflow step \(step.rawValue): \(error)")
                }
            }
            return .object(args)
        }
        switch step {
        case .idea:
            break  // The brief is the idea; it is on the project already.
        case .storyboard:
            var args: [String: JSONValue] = ["brief": job.args["brief"] ?? ""]
            if let scenes = job.args["scenes"] { args["scenes"] = scenes }
            child(.storyboard, try withProvider(.storyboard, args))
        case .heroShot:
            let storyboard = try await store.storyboard(project: project) ?? [:]
            let prompt = "Hero shot: \(storyboard["title"]?.stringValue ?? ""). \(storyboard["logline"]?.stringValue ?? "")"
            child(.image, try withProvider(.image, ["prompt": .string(prompt), "role": .string(AssetRole.hero.rawValue)]))
        case .frames:
            let hero = try await store.asset(project: project, role: .hero)
            for scene in try await store.scenes(project: project) {
                let id = JSONValue.string(scene.id.lowercasedText)
                let reference: JSONValue = hero.map { .string($0.id.lowercasedText) } ?? .null
                child(.image, try withProvider(.image, ["prompt": .string(scene.startFramePrompt), "role": .string(AssetRole.startFrame.rawValue), "scene_id": id, "reference_asset_id": reference]))
                child(.image, try withProvider(.image, ["prompt": .string(scene.endFramePrompt), "role": .string(AssetRole.endFrame.rawValue), "scene_id": id, "reference_asset_id": reference]))
            }
        case .clips:
            for scene in try await store.scenes(project: project) {
                guard let start = try await store.asset(project: project, role: .startFrame, scene: scene.id),
                      let end = try await store.asset(project: project, role: .endFrame, scene: scene.id) else {
                    throw JobError.permanent("scene \(scene.index + 1) has no start/end frames")
                }
                child(.video, try withProvider(.video, [
                    "prompt": .string(scene.title), "scene_id": .string(scene.id.lowercasedText),
                    "start_asset_id": .string(start.id.lowercasedText), "end_asset_id": .string(end.id.lowercasedText),
                    "duration_seconds": .double(scene.durationSeconds),
                ]))
            }
        case .audio:
            let scenes = try await store.scenes(project: project)
            let storyboard = try await store.storyboard(project: project) ?? [:]
            let narration = scenes.map(\.narration).filter { !$0.isEmpty }.joined(separator: " ")
            let total = scenes.map(\.durationSeconds).reduce(0, +)
            child(.speech, try withProvider(.speech, ["text": .string(narration.isEmpty ? "…" : narration), "role": .string(AssetRole.voiceover.rawValue)]))
            child(.music, try withProvider(.music, ["prompt": storyboard["music_prompt"] ?? "gentle score", "duration_seconds": .double(total), "role": .string(AssetRole.music.rawValue)]))
            child(.soundEffect, try withProvider(.soundEffect, ["prompt": "transition whoosh", "duration_seconds": 2, "role": .string(AssetRole.soundEffect.rawValue)]))
        case .edit:
            child(.edit, [:])
        case .export:
            child(.export, [:])
        }
        return made
    }

    private func summary(job: ClaimedJob, project: UUID, steps: [StudioStore.StepRow]) async throws -> JSONValue {
        let exportStep = steps.first { $0.step == .export } ?? StudioStore.StepRow(step: .export, state: .completed)
        let export = try await store.children(of: job.id, step: exportStep).results.first ?? .null
        return [
            "project_id": .string(project.lowercasedText),
            "film_asset_id": export["asset_id"] ?? .null,
            "path": export["path"] ?? .null,
            "duration_seconds": export["duration_seconds"] ?? .null,
        ]
    }
}
