import ReelCore

/// Handlers by kind.
public struct HandlerRegistry: Sendable {
    private var handlers: [JobKind: any JobHandler] = [:]

    public init() {}

    public mutating func register(_ kind: JobKind, _ handler: any JobHandler) {
        handlers[kind] = handler
    }

    public func handler(for kind: JobKind) -> (any JobHandler)? { handlers[kind] }

    public var kinds: [JobKind] { Array(handlers.keys) }
}
