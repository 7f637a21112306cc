import ReelCore

/// Where the spool hands a decoded job: in the daemon, `reeld.submit_job()` in Postgres.
///
/// Implementations must be idempotent by `JobSubmission.idempotencyKey` (for the same user):
/// the spool relies on that to re-process a file after a crash without submitting it twice.
///
/// Throw `SubmitRejection` when the job can never be accepted as written (the file is moved to
/// `rejected/` with the message); throw anything else for a transient failure (the file stays in
/// `new/` and is tried again on the next scan).
public protocol JobSubmitting: Sendable {
    func submit(_ job: JobSubmission) async throws -> SubmitReceipt
}
