import Foundation
import ReelCore

extension JSONValue {
    /// Indented JSON text with sorted keys, for files people read (`.error.json`, the schema).
    var jsonTextPretty: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail: every case maps to JSON.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}
