import ReelCore

/// A parsed TOML text: its values, and where each key was written so that later checks
/// (unknown keys, wrong types, out-of-range values) can point at the line.
public struct TOMLDocument: Sendable {
    /// The root table.
    public let root: [String: JSONValue]
    let positions: [[String]: TOMLPosition]

    init(root: [String: JSONValue], positions: [[String]: TOMLPosition]) {
        self.root = root
        self.positions = positions
    }

    /// The whole document as one JSON object.
    public var value: JSONValue { .object(root) }

    /// Where the key (or table header) at `path` was defined, e.g. `["queue", "workers"]`.
    public func position(of path: [String]) -> TOMLPosition? { positions[path] }
}
