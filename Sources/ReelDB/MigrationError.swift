/// A migration problem, with the file it concerns.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
