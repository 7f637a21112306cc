/// Header fields in order, with case-insensitive lookup. A field can be marked secret (an API
/// key, a bearer token, a signature): its value then never appears in a description, a dump or
/// an error, and it is not sent on to another host when a redirect is followed.
public struct HTTPHeaders: Sendable, Hashable {
    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: String
        public var isSecret: Bool
    }

    /// Names whose values are credentials whatever the caller says: a slip cannot log them.
    static let alwaysSecret: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-goog-api-key", "xi-api-key",
    ]

    public private(set) var fields: [Field] = []

    public init() {}

    public init(_ pairs: [(String, String)]) {
        for (name, value) in pairs { add(name, value) }
    }

    /// Adds a field; `secret` marks its value as a credential.
    public mutating func add(_ name: String, _ value: String, secret: Bool = false) {
        fields.append(Field(name: name, value: value, isSecret: secret || Self.isAlwaysSecret(name)))
    }

    /// Replaces every field of this name with one.
    public mutating func set(_ name: String, _ value: String, secret: Bool = false) {
        remove(name)
        add(name, value, secret: secret)
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { Self.sameName($0.name, name) }
    }

    /// `Authorization: Bearer <token>`, secret.
    public mutating func setBearer(_ token: String) {
        set("Authorization", "Bearer \(token)", secret: true)
    }

    /// The first value of a field, case-insensitively.
    public subscript(name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    /// Every value of a field, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    /// Field names compared as HTTP does, ASCII case-insensitively, byte by byte: every
    /// response is looked up a dozen times (pacing hints, request ids), and lower-casing both
    /// names each time allocated two strings per field and lookup.
    static func sameName(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                for i in 0..<x.count where x[i] != y[i] {
                    // Letters differ by 0x20 between cases; other bytes must match exactly.
                    let p = x[i] | 0x20
                    guard p == y[i] | 0x20, p >= 0x61, p <= 0x7a else { return false }
                }
                return true
            }
        }
    }

    static func isAlwaysSecret(_ name: String) -> Bool {
        alwaysSecret.contains { sameName($0, name) }
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// The values to scrub from any text that leaves the client: each secret value, and the
    /// token alone where the value is a scheme and a token ("Bearer sk-…").
    var secretValues: [String] {
        var values: [String] = []
        for field in fields where field.isSecret {
            values.append(field.value)
            if let space = field.value.firstIndex(of: " ") {
                values.append(String(field.value[field.value.index(after: space)...]).trimmingCharacters(in: .whitespaces))
            }
        }
        return values.filter { $0.count >= 4 }
    }

    var withoutSecrets: HTTPHeaders {
        var copy = self
        copy.fields.removeAll(where: \.isSecret)
        return copy
    }
}

extension HTTPHeaders: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "[" + fields.map { "\($0.name): \($0.isSecret ? "[redacted]" : $0.value)" }.joined(separator: ", ") + "]"
    }

    public var debugDescription: String { description }

    /// `dump` and `String(reflecting:)` of a value holding headers show no secret either.
    public var customMirror: Mirror {
        Mirror(self, unlabeledChildren: fields.map { "\($0.name): \($0.isSecret ? "[redacted]" : $0.value)" }, displayStyle: .collection)
    }
}

import Foundation
