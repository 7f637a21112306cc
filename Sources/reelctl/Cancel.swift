import ArgumentParser
import ReelCore
import ReelQueue

/// `reelctl cancel JOB_ID`.
struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a job: a queued one at once, a running one at its worker's next heartbeat.")

    @ParentCommand var root: ReelCtl

    @Argument(help: ArgumentHelp("The job's id.", valueName: "job-id"))
    var job: JobID

    func run() async throws {
        try await root.global.withDatabase { database in
            guard let state = try await JobQueue(database: database).cancel(job: job.value) else {
                throw CtlFailure.noSuchJob(job.value)
            }
            let id = job.value.lowercasedText
            switch state {
            case .running: print("job \(id): cancel requested; the worker stops at its next heartbeat")
            case .cancelled: print("job \(id) cancelled")
            default: print("job \(id) is \(state.rawValue); nothing to cancel")
            }
        }
    }
}
