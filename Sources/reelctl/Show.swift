import ArgumentParser
import Foundation
import ReelCore
import ReelQueue

/// `reelctl show JOB_ID`: one job in full, its error history and its children.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a job: state, lease, timings, args, result, errors, children.")

    @ParentCommand var root: ReelCtl

    @Argument(help: ArgumentHelp("The job's id.", valueName: "job-id"))
    var job: JobID

    @Flag(help: "Print JSON ({\"job\": …, \"children\": […]}) instead of text.")
    var json = false

    /// The `--json` document.
    struct Output: Encodable {
        var job: JobRecord
        var children: [JobRecord]
    }

    func run() async throws {
        try await root.global.withDatabase { database in
            let inspector = JobInspector(database: database)
            guard let record = try await inspector.job(job.value) else { throw CtlFailure.noSuchJob(job.value) }
            let children = try await inspector.children(of: job.value)
            if json {
                print(Formatting.prettyJSON(Output(job: record, children: children)))
            } else {
                print(Self.describe(record, children: children, now: Date()))
            }
        }
    }

    static func describe(_ job: JobRecord, children: [JobRecord], now: Date) -> String {
        typealias F = Formatting
        var lines: [String] = []
        func field(_ name: String, _ value: String) {
            lines.append("  " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + value)
        }

        lines.append("job \(F.uuid(job.id))")
        field("kind", job.kind.rawValue)
        field("state", job.state.rawValue + (job.cancelRequested && job.state == .running ? " (cancel requested)" : ""))
        field("user", F.uuid(job.userID))
        field("project", F.uuid(job.projectID))
        if let parent = job.parentID { field("parent", F.uuid(parent)) }
        field("priority", "\(job.priority)")
        field("attempt", "\(job.attempt) of \(job.maxAttempts)")
        field("run at", job.state.isFinal ? F.time(job.runAt) : F.relative(job.runAt, now: now))
        if let owner = job.leaseOwner {
            field("lease", "\(owner) until \(F.relative(job.leaseExpiresAt, now: now))")
        } else {
            field("lease", "—")
        }
        field("progress", F.percent(job.progress))
        if let key = job.idempotencyKey { field("idempotency key", key) }

        lines.append("timings")
        field("created", F.time(job.createdAt))
        field("attempted", F.time(job.attemptedAt))
        field("finished", F.time(job.finishedAt))
        field("queue wait", F.duration(job.queueWait))
        let runTime = F.duration(job.runTime(now: now))
        field("run time", job.state == .running ? runTime + " so far" : runTime)

        lines.append("args")
        lines.append(F.indented(F.prettyJSON(job.args)))
        lines.append("result")
        lines.append(job.result.map { F.indented(F.prettyJSON($0)) } ?? "  —")

        lines.append("errors (\(job.errors.count))")
        for entry in job.errors {
            lines.append("  attempt \(entry.attempt) at \(F.time(entry.at)) [\(entry.failureClass)] \(entry.error)")
            if let detail = entry.detail { lines.append(F.indented(F.prettyJSON(detail), by: "      ")) }
        }

        if !children.isEmpty {
            var counts: [JobState: Int] = [:]
            for child in children { counts[child.state, default: 0] += 1 }
            let summary = JobState.allCases.compactMap { state in counts[state].map { "\($0) \(state.rawValue)" } }
            lines.append("children (\(children.count)): " + summary.joined(separator: ", "))
            let rows = children.map { child in
                [F.uuid(child.id), child.kind.rawValue, child.state.rawValue, "\(child.attempt)/\(child.maxAttempts)",
                 F.percent(child.progress), child.errors.last?.error ?? ""]
            }
            lines.append(F.indented(F.table(["ID", "KIND", "STATE", "ATTEMPT", "PROGRESS", "LAST ERROR"], rows)))
        } else {
            lines.append("children: none")
        }
        return lines.joined(separator: "\n")
    }
}
