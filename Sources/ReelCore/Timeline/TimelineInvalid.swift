/// A timeline that cannot be rendered (or an edit that would make one), with every problem found.
/// Permanent: the same timeline fails the same way until someone edits it.
public struct TimelineInvalid: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [TimelineProblem]

    public init(_ problems: [TimelineProblem]) {
        self.problems = problems
    }

    public init(element: String, _ message: String) {
        self.init([TimelineProblem(element: element, message: message)])
    }

    public var description: String {
        "invalid timeline: " + problems.map(\.description).joined(separator: "; ")
    }
}
