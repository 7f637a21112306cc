/// Why a configuration was rejected: which file, where, which key, and what is wrong with it.
///
/// The description reads like a compiler diagnostic so editors and humans can find it: a syntax
/// error has a line and column (`/etc/reeld/reeld.toml:12:9: Error while parsing …`), a setting's
/// error its key (`/etc/reeld/reeld.toml: queue.poll_interval_seconds: must be at least 5 (found 2)`).
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file path, or a name for text that came from elsewhere.
    public var source: String
    /// Where a syntax error is; nil for errors about a setting, whose position TOMLKit does not report.
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
