import ArgumentParser
import ReelCore
import ReelQueue

/// `reelctl retry JOB_ID`.
struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Queue a failed or cancelled job again, with one more attempt; its error history stays.")

    @ParentCommand var root: ReelCtl

    @Argument(help: ArgumentHelp("The job's id.", valueName: "job-id"))
    var job: JobID

    func run() async throws {
        try await root.global.withDatabase { database in
            let id = job.value.lowercasedText
            if try await JobQueue(database: database).retry(job: job.value) {
                print("job \(id) queued again")
                return
            }
            // Not retried: say whether it does not exist or is not in a retryable state.
            guard let record = try await JobInspector(database: database).job(job.value) else {
                throw CtlFailure.noSuchJob(job.value)
            }
            throw CtlFailure(
                code: .other,
                message: "job \(id) is \(record.state.rawValue); only failed or cancelled jobs can be retried")
        }
    }
}
