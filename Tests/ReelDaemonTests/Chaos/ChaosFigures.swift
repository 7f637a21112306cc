import Foundation

/// What a chaos run did and measured, printed at its end (one `chaos:` line each), so that a run
/// of `scripts/chaos` reports its figures whether it passes or not.
struct ChaosFigures {
    var jobs = 0
    var completed = 0
    var cancelled = 0
    var cancelRequests = 0
    var kills = 0
    var stops = 0
    var starts = 0
    var rescues = 0
    var retriedJobs = 0
    var maxAttempt = 0
    var imageJobs = 0
    var downtime = 0.0
    /// From the database's start to each node's first claim after it, by the database's clock.
    var backAtWork: [String: Double] = [:]
    var firstCompletionAfterRestart: Double?
    var lockHeld = 0.0
    var lockedJobRescued = false
    var lockOwnerCompletionsWhileLocked = 0
    var lockOwnerLapsedLeases = 0
    /// The test's own submits and cancels that PostgreSQL aborted for a deadlock (run again).
    var clientDeadlocks = 0
    var drain = 0.0
    var total = 0.0

    func lines(plan: ChaosPlan) -> [String] {
        let format = { (value: Double) in String(format: "%.2f", value) }
        return [
            "chaos: \(plan)",
            "chaos: \(jobs) jobs (\(imageJobs) local images): \(completed) completed, \(cancelled) cancelled (\(cancelRequests) cancels asked)",
            "chaos: \(kills) SIGKILLs, \(stops) SIGTERMs, \(starts) node starts; \(rescues) rescues, \(retriedJobs) jobs ran more than once (most attempts \(maxAttempt))",
            "chaos: database down \(format(downtime)) s; back at work after its start: "
                + backAtWork.sorted { $0.key < $1.key }.map { "\($0.key) \(format($0.value)) s" }.joined(separator: ", ")
                + "; first completion \(firstCompletionAfterRestart.map(format) ?? "-") s",
            "chaos: row locked \(format(lockHeld)) s (lease \(plan.leaseSeconds) s): its owner completed \(lockOwnerCompletionsWhileLocked) other jobs meanwhile, "
                + "\(lockOwnerLapsedLeases) of its other leases lapsed, the locked job \(lockedJobRescued ? "was" : "was not") rescued",
            "chaos: \(clientDeadlocks) of the test's submits and cancels aborted for a deadlock and run again",
            "chaos: \(format(total)) s in all, \(format(drain)) s to finish the last jobs after the chaos",
        ]
    }
}
