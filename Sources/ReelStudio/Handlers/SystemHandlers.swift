import ReelCore
import ReelQueue

/// `system.noop` and `system.sleep`: the benchmark's job, and a job that holds a lease for a
/// while (leases, cancel and shutdown can be watched on it).
enum SystemHandlers {
    static let noop = ClosureHandler { _, _ in .completed(.null) }

    static let sleep = ClosureHandler { job, context in
        guard let seconds = job.args["seconds"]?.doubleValue, seconds >= 0, seconds <= 86_400 else {
            throw JobError.permanent("args.seconds: expected a number 0…86400")
        }
        let steps = max(1, Int(seconds * 10))
        for step in 1...steps {
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000) / Int64(steps)))
            context.reportProgress(Double(step) / Double(steps))
        }
        return .completed(["slept": .double(seconds)])
    }
}
