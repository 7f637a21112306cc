import ReelCore

/// Why no provider can take a job; permanent, since retrying finds the same configuration.
public enum RoutingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The job named a provider this node does not run.
    case providerNotEnabled(String, enabled: [String])
    /// No enabled provider can make this kind with what the job needs.
    case noProvider(JobKind, need: String?)

    public var description: String {
        switch self {
        case .providerNotEnabled(let name, let enabled):
            "provider \(name) is not enabled on this node (enabled: \(enabled.joined(separator: ", ")))"
        case .noProvider(let kind, let need):
            "no enabled provider makes \(kind)" + (need.map { " with \($0)" } ?? "")
        }
    }
}
