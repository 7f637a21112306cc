import Foundation

extension JSONValue {
    /// Parses JSON text (a job file, a `jsonb` column, a provider body).
    public init(parsing text: some DataProtocol) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: Data(text))
    }

    /// Compact JSON text with sorted keys, so equal values give equal text (content hashes, idempotency keys).
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail: every case maps to JSON.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}
