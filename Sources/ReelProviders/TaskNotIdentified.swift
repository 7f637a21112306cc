/// Thrown by a lookup that reached the provider but cannot say which task, if any, an earlier
/// create call made (several match, or the list goes back further than it may search): the
/// generation's outcome is unknown, and calling again could pay twice.
public struct TaskNotIdentified: Error, Sendable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}
