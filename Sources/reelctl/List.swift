import ArgumentParser
import Foundation
import ReelCore
import ReelQueue

/// `reelctl list`: the newest jobs as a table, then how many jobs are in each state.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the newest jobs, then the count of jobs in each state.")

    @ParentCommand var root: ReelCtl

    @Option(help: "Only jobs in this state.")
    var state: JobState?

    @Option(help: "Only jobs of this kind (e.g. video.generate).")
    var kind: String?

    @Option(help: "At most this many jobs.")
    var limit = 50

    @Flag(help: "Print JSON ({\"jobs\": […], \"counts\": {state: n}}) instead of a table.")
    var json = false

    /// The `--json` document.
    struct Output: Encodable {
        var jobs: [JobRecord]
        var counts: [String: Int]
    }

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
    }

    func run() async throws {
        try await root.global.withDatabase { database in
            let inspector = JobInspector(database: database)
            let kind = kind.map(JobKind.init(rawValue:))
            let jobs = try await inspector.list(.init(state: state, kind: kind, limit: limit))
            let counts = try await inspector.countsByState(kind: kind)
            if json {
                let named = Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
                print(Formatting.prettyJSON(Output(jobs: jobs, counts: named)))
            } else {
                print(Self.describe(jobs, counts: counts, kind: kind, now: Date()))
            }
        }
    }

    static func describe(_ jobs: [JobRecord], counts: [JobState: Int], kind: JobKind?, now: Date) -> String {
        typealias F = Formatting
        var lines: [String] = []
        if jobs.isEmpty {
            lines.append("no jobs match")
        } else {
            let rows = jobs.map { job in
                [F.uuid(job.id), job.kind.rawValue, job.state.rawValue, "\(job.attempt)/\(job.maxAttempts)",
                 F.duration(now.timeIntervalSince(job.createdAt)), F.percent(job.progress)]
            }
            lines.append(F.table(["ID", "KIND", "STATE", "ATTEMPT", "AGE", "PROGRESS"], rows))
        }
        let total = counts.values.reduce(0, +)
        let perState = JobState.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: "  ")
        lines.append("")
        lines.append("\(total) jobs\(kind.map { " of kind \($0.rawValue)" } ?? ""): \(perState)")
        return lines.joined(separator: "\n")
    }
}

extension JobState: ExpressibleByArgument {}
