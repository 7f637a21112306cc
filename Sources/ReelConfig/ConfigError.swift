/// Why a configuration was rejected: which file, where, which key, and what is wrong with it.
///
/// The description reads like a compiler diagnostic so editors and humans can jump to it:
/// `/etc/reeld/reeld.toml:12:1: queue.poll_interval_seconds: must be at least 5 (found 2)`.
/// A syntax error points at the character; an error about a setting at the start of the
/// statement that wrote it.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file path, or a name for text that came from elsewhere.
    public var source: String
    /// Nil when the file could not be read, or the key could not be located.
    public var position: TOMLPosition?
    /// The dotted key (`queue.workers`), if the error is about one.
    public var key: String?
    public var message: String

    public init(source: String, position: TOMLPosition?, key: String?, message: String) {
        self.source = source
        self.position = position
        self.key = key
        self.message = message
    }

    public var description: String {
        var out = source
        if let position { out += ":\(position)" }
        out += ": "
        if let key { out += key + ": " }
        return out + message
    }
}
