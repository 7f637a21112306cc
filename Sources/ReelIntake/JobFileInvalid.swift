/// A job file that cannot be submitted as written; every problem found, not just the first.
public struct JobFileInvalid: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [IntakeProblem]

    public init(_ problems: [IntakeProblem]) {
        self.problems = problems
    }

    public var description: String {
        "invalid job file (not retried): " + problems.map(\.message).joined(separator: "; ")
    }
}
