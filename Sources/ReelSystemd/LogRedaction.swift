import Logging

/// Keeps credentials out of logs: metadata whose key names a secret is logged as `<redacted>`,
/// however deeply it is nested.
///
/// Matching is on the normalised key (see ``JournalFieldName/sanitize(_:)``), so `apiKey`,
/// `api-key` and `API_KEY` are all caught.
public struct LogRedaction: Sendable, Hashable {
    /// Upper-case fragments; a key containing any of them is redacted.
    public var sensitiveFragments: [String]

    /// The text logged in place of a secret.
    public static let placeholder = "<redacted>"

    /// Secrets by the names reeld and its providers use.
    public static let `default` = LogRedaction(
        sensitiveFragments: ["SECRET", "TOKEN", "PASSWORD", "PASSWD", "AUTHORIZATION", "API_KEY", "APIKEY", "CREDENTIAL"]
    )

    public init(sensitiveFragments: [String]) {
        self.sensitiveFragments = sensitiveFragments.map { $0.uppercased() }
    }

    /// Whether a value logged under `key` must be hidden.
    public func isSensitive(_ key: String) -> Bool {
        let name = JournalFieldName.sanitize(key)
        let compact = name.replacingOccurrences(of: "_", with: "")
        return sensitiveFragments.contains { name.contains($0) || compact.contains($0) }
    }

    /// The metadata with every sensitive value replaced, nested dictionaries included.
    public func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        var out = metadata
        for (key, value) in metadata {
            out[key] = isSensitive(key) ? .string(Self.placeholder) : redact(value)
        }
        return out
    }

    private func redact(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .dictionary(let d): .dictionary(redact(d))
        case .array(let a): .array(a.map(redact))
        case .string, .stringConvertible: value
        }
    }
}
