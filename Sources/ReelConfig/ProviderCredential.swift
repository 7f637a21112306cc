/// One secret a remote provider needs (an API key, Kling's access or secret key), read from a
/// file at start so that it can come in through systemd's `LoadCredential=`.
///
/// The value is held in memory only; `description` never shows it, so a config printed in a
/// log or an error stays free of keys.
public struct ProviderCredential: Sendable, Hashable, CustomStringConvertible {
    /// The config key naming the file, e.g. `api_key_file`.
    public var key: String
    /// The file, with `${VAR}` expanded.
    public var path: String
    /// The file's contents without surrounding whitespace, once ``ReelConfig/load(path:environment:)``
    /// has read it; nil after a bare ``ReelConfig/parse(_:source:environment:)``.
    public var value: String?

    public init(key: String, path: String, value: String? = nil) {
        self.key = key
        self.path = path
        self.value = value
    }

    public var description: String {
        "\(key): \(path)\(value == nil ? "" : " (read)")"
    }
}
