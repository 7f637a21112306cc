import ReelCore
import ReelIntake
import ReelQueue

/// Connects the spool to the one submission path: a refusal by `reeld.submit_job()` rejects the
/// file with the database's reason; anything else (database down) leaves it for the next scan.
/// Public for the spool crash tests' driver, which runs the real spool path in a process of its own.
public struct SpoolSubmitter: JobSubmitting {
    let queue: JobQueue

    public init(queue: JobQueue) {
        self.queue = queue
    }

    public func submit(_ job: JobSubmission) async throws -> ReelIntake.SubmitReceipt {
        do {
            let receipt = try await queue.submit(job)
            return ReelIntake.SubmitReceipt(jobID: receipt.jobID, created: receipt.created)
        } catch SubmitError.invalid(let message) {
            throw SubmitRejection(message, path: "$." + (message.split(separator: ":").first.map(String.init) ?? ""))
        }
    }
}
