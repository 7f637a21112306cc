import Foundation
import ReelCore

extension JSONValue {
    /// An optional uuid argument; a present but malformed one is a permanent error naming the field.
    func uuid(_ key: String) throws -> UUID? {
        guard let value = self[key], value != .null else { return nil }
        guard let text = value.stringValue, let id = UUID(text: text) else {
            throw JobError.permanent("args.\(key): expected a uuid")
        }
        return id
    }
}
