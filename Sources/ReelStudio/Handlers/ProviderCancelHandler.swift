import Foundation
import ReelCore
import ReelProviders
import ReelQueue

/// `system.provider_cancel`: asks a provider to stop the task of a job that was cancelled while
/// the provider worked on it. The database enqueues it when such a job ends cancelled (the
/// trigger in `Migrations/functions/jobs_cancel_provider_task.sql`), so a cancel reaches the
/// provider however it was made, and even when no node ran the job at the time (it waited).
/// A provider without a cancel logs the task as abandoned there (`Provider.cancel`'s default).
struct ProviderCancelHandler: JobHandler {
    let providers: ProviderRegistry
    /// Parent of per-job scratch directories; a cancel writes nothing, but adapters get one.
    let scratchRoot: URL

    func run(_ job: ClaimedJob, context: JobContext) async throws -> JobOutcome {
        guard let name = job.args["provider"]?.stringValue, let taskID = job.args["task_id"]?.stringValue else {
            throw JobError.permanent("args.provider and args.task_id: required for \(job.kind)")
        }
        var logger = context.logger
        logger[metadataKey: "generation_id"] = "\(job.args["generation_id"]?.stringValue ?? "unknown")"
        if let cancelled = job.args["job_id"]?.stringValue { logger[metadataKey: "cancelled_job_id"] = "\(cancelled)" }
        let provider = try providers.provider(named: name)
        let generationContext = GenerationContext(workDirectory: scratchRoot.appendingPathComponent(job.id.lowercasedText), logger: logger)
        try await provider.cancel(ProviderTask(provider: name, id: taskID), context: generationContext)
        return .completed(["provider": .string(name), "task_id": .string(taskID)])
    }
}
