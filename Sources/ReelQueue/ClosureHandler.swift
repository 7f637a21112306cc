/// A handler from a closure, for small kinds and tests.
public struct ClosureHandler: JobHandler {
    let body: @Sendable (ClaimedJob, JobContext) async throws -> JobOutcome

    public init(_ body: @escaping @Sendable (ClaimedJob, JobContext) async throws -> JobOutcome) {
        self.body = body
    }

    public func run(_ job: ClaimedJob, context: JobContext) async throws -> JobOutcome {
        try await body(job, context)
    }
}
