/// A place in a TOML text, both counts starting at 1; columns count Unicode scalars.
public struct TOMLPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }

    public static func < (a: TOMLPosition, b: TOMLPosition) -> Bool { (a.line, a.column) < (b.line, b.column) }
}

/// Why a TOML text was rejected, and where: malformed syntax, a duplicate key, or a TOML
/// feature outside the subset ``TOMLParser`` supports.
public struct TOMLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var position: TOMLPosition
    public var message: String

    public init(_ message: String, at position: TOMLPosition) {
        self.message = message
        self.position = position
    }

    public var description: String { "\(position): \(message)" }
}
