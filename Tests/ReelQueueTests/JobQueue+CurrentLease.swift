import Foundation
import ReelQueue

extension JobQueue {
    /// The lease a job's running attempt holds now, as the node that claimed it knows it; a
    /// lease no attempt holds when the job is not running.
    func lease(of job: UUID) async throws -> JobLease {
        let token = try await database.query("select lease_token from jobs where id = $1::uuid", [job]).first?.optionalUUID("lease_token")
        return JobLease(job: job, token: token ?? UUID())
    }
}
