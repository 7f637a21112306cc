import Foundation
import ReelCore
import Synchronization
@testable import ReelIntake

/// An in-memory `JobSubmitting`, idempotent by key like `reeld.submit_job()`.
final class FakeSubmitter: JobSubmitting {
    struct DatabaseDown: Error {}

    enum Behaviour: Sendable {
        case accept
        /// Throws a transient error for the next `count` calls, then accepts.
        case failTransiently(count: Int)
        case refuse(SubmitRejection)
    }

    private struct State {
        var behaviour = Behaviour.accept
        var submissions: [JobSubmission] = []
        var jobs: [String: UUID] = [:]
    }

    private let state: Mutex<State>

    init(_ behaviour: Behaviour = .accept) {
        state = Mutex(State(behaviour: behaviour))
    }

    /// Every call that reached the queue, including repeats.
    var submissions: [JobSubmission] { state.withLock { $0.submissions } }
    /// Distinct jobs queued.
    var jobCount: Int { state.withLock { $0.jobs.count } }

    func submit(_ job: JobSubmission) async throws -> SubmitReceipt {
        try state.withLock { state in
            switch state.behaviour {
            case .failTransiently(let count) where count > 0:
                state.behaviour = count > 1 ? .failTransiently(count: count - 1) : .accept
                throw DatabaseDown()
            case .refuse(let rejection):
                state.submissions.append(job)
                throw rejection
            default:
                state.submissions.append(job)
                let key = job.idempotencyKey ?? UUID().uuidString
                if let id = state.jobs[key] { return SubmitReceipt(jobID: id, created: false) }
                let id = UUID()
                state.jobs[key] = id
                return SubmitReceipt(jobID: id, created: true)
            }
        }
    }
}
