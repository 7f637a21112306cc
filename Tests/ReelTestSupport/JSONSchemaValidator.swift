import Foundation
import ReelCore

/// Validates JSON documents against a JSON Schema (draft 2020-12), for the keywords reeld's own
/// schemas (`config/job-file.schema.json`, `config/timeline.schema.json`) use. Written for the
/// tests because the package mirror has no JSON Schema library; the schemas are published for
/// other tools, and these tests check that what the docs and fixtures show passes them.
///
/// A schema that uses any keyword outside that set is refused when the validator is made, so a
/// schema that grows a keyword cannot pass documents unchecked. `format` is an annotation only,
/// as 2020-12 specifies by default; `$ref` resolves JSON pointers into the same document.
public struct JSONSchemaValidator: Sendable {
    /// One way a document breaks the schema: where (`$.args.brief`), by which keyword, and how.
    public struct Failure: Sendable, Hashable, CustomStringConvertible {
        public var path: String
        public var keyword: String
        public var message: String
        public var description: String { "\(path): \(keyword): \(message)" }
    }

    /// The schema uses something this validator does not implement.
    public struct Unsupported: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every keyword this validator understands; the annotations among them check nothing.
    public static let keywords: Set<String> = [
        "$schema", "$id", "$defs", "$ref", "title", "description", "format",
        "type", "enum", "const",
        "properties", "required", "additionalProperties",
        "items", "minItems", "maxItems",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "pattern",
        "allOf", "anyOf", "oneOf", "if", "then", "else",
    ]

    let root: JSONValue

    /// - Throws: `Unsupported` naming the first keyword, `$ref` or pattern it cannot check.
    public init(schema: JSONValue) throws {
        root = schema
        try Self.check(schema, path: "#", root: schema)
    }

    /// Reads a schema file.
    public init(contentsOf url: URL) throws {
        try self.init(schema: try JSONValue(parsing: Data(contentsOf: url)))
    }

    /// Every way `instance` breaks the schema; empty when it is valid.
    public func validate(_ instance: JSONValue) -> [Failure] {
        var failures: [Failure] = []
        validate(instance, against: root, path: "$", into: &failures)
        return failures
    }

    /// Parses `text` and validates it; a document that is not JSON is one failure at the root.
    public func validate(text: String) -> [Failure] {
        do {
            return validate(try JSONValue(parsing: Data(text.utf8)))
        } catch {
            return [Failure(path: "$", keyword: "json", message: "not JSON: \(error)")]
        }
    }

    // MARK: Checking the schema

    private static func check(_ schema: JSONValue, path: String, root: JSONValue) throws {
        if case .bool = schema { return }
        guard case .object(let fields) = schema else { throw Unsupported(description: "\(path): a schema must be an object or a boolean") }
        for (keyword, value) in fields {
            guard keywords.contains(keyword) else { throw Unsupported(description: "\(path): keyword \(keyword) is not supported") }
            switch keyword {
            case "$defs", "properties":
                for (name, sub) in value.objectValue ?? [:] { try check(sub, path: "\(path)/\(keyword)/\(name)", root: root) }
            case "items", "additionalProperties", "if", "then", "else":
                try check(value, path: "\(path)/\(keyword)", root: root)
            case "allOf", "anyOf", "oneOf":
                for (index, sub) in (value.arrayValue ?? []).enumerated() {
                    try check(sub, path: "\(path)/\(keyword)/\(index)", root: root)
                }
            case "$ref":
                guard let ref = value.stringValue, resolve(ref, in: root) != nil else {
                    throw Unsupported(description: "\(path): $ref \(value) does not point into this document")
                }
            case "pattern":
                guard let source = value.stringValue, (try? Regex(source)) != nil else {
                    throw Unsupported(description: "\(path): pattern \(value) does not compile")
                }
            default:
                break
            }
        }
    }

    /// A JSON pointer (`#/$defs/uuid`) into `root`.
    static func resolve(_ ref: String, in root: JSONValue) -> JSONValue? {
        guard ref.hasPrefix("#") else { return nil }
        var node = root
        for token in ref.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch node {
            case .object(let fields):
                guard let next = fields[key] else { return nil }
                node = next
            case .array(let items):
                guard let index = Int(key), items.indices.contains(index) else { return nil }
                node = items[index]
            default:
                return nil
            }
        }
        return node
    }

    // MARK: Validating

    private func validate(_ instance: JSONValue, against schema: JSONValue, path: String, into failures: inout [Failure]) {
        func fail(_ keyword: String, _ message: String) { failures.append(Failure(path: path, keyword: keyword, message: message)) }
        switch schema {
        case .bool(true): return
        case .bool(false): return fail("false", "no value is allowed here")
        case .object: break
        default: return
        }

        if let ref = schema["$ref"]?.stringValue, let target = Self.resolve(ref, in: root) {
            validate(instance, against: target, path: path, into: &failures)
        }
        if let type = schema["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue].compactMap { $0 }
            if !allowed.contains(where: { Self.matches(instance, type: $0) }) {
                fail("type", "expected \(allowed.joined(separator: " or ")), got \(Self.describe(instance))")
            }
        }
        if let choices = schema["enum"]?.arrayValue, !choices.contains(where: { Self.equal($0, instance) }) {
            fail("enum", "\(Self.describe(instance)) is not one of \(choices.map(\.jsonText).joined(separator: ", "))")
        }
        if let constant = schema["const"], !Self.equal(constant, instance) {
            fail("const", "expected \(constant.jsonText), got \(Self.describe(instance))")
        }

        switch instance {
        case .object(let fields):
            let properties = schema["properties"]?.objectValue ?? [:]
            for name in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where fields[name] == nil {
                fail("required", "\(name) is missing")
            }
            for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
                let child = path + "." + name
                if let property = properties[name] {
                    validate(value, against: property, path: child, into: &failures)
                } else if schema["additionalProperties"] == .bool(false) {
                    failures.append(Failure(path: child, keyword: "additionalProperties", message: "no such property is allowed"))
                } else if let additional = schema["additionalProperties"] {
                    validate(value, against: additional, path: child, into: &failures)
                }
            }
        case .array(let items):
            if let minimum = schema["minItems"]?.intValue, items.count < minimum { fail("minItems", "\(items.count) items, at least \(minimum) needed") }
            if let maximum = schema["maxItems"]?.intValue, items.count > maximum { fail("maxItems", "\(items.count) items, at most \(maximum) allowed") }
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() { validate(item, against: itemSchema, path: "\(path)[\(index)]", into: &failures) }
            }
        case .string(let text):
            // JSON Schema counts characters as code points.
            let length = text.unicodeScalars.count
            if let minimum = schema["minLength"]?.intValue, length < minimum { fail("minLength", "\(length) characters, at least \(minimum) needed") }
            if let maximum = schema["maxLength"]?.intValue, length > maximum { fail("maxLength", "\(length) characters, at most \(maximum) allowed") }
            // Unanchored, as in JSON Schema: the pattern's own ^ and $ anchor it. Compiled here
            // because a Regex is not Sendable; init checked that it compiles.
            if let source = schema["pattern"]?.stringValue, let regex = try? Regex(source), text.firstMatch(of: regex) == nil {
                fail("pattern", "\(Self.describe(instance)) does not match \(source)")
            }
        case .int, .double:
            let number = instance.doubleValue!
            if let minimum = schema["minimum"]?.doubleValue, number < minimum { fail("minimum", "\(number) is below \(minimum)") }
            if let maximum = schema["maximum"]?.doubleValue, number > maximum { fail("maximum", "\(number) is above \(maximum)") }
            if let bound = schema["exclusiveMinimum"]?.doubleValue, number <= bound { fail("exclusiveMinimum", "\(number) is not above \(bound)") }
            if let bound = schema["exclusiveMaximum"]?.doubleValue, number >= bound { fail("exclusiveMaximum", "\(number) is not below \(bound)") }
            if let step = schema["multipleOf"]?.doubleValue, step > 0 {
                let quotient = number / step
                if abs(quotient - quotient.rounded()) > 1e-9 * max(1, abs(quotient)) { fail("multipleOf", "\(number) is not a multiple of \(step)") }
            }
        default:
            break
        }

        for sub in schema["allOf"]?.arrayValue ?? [] { validate(instance, against: sub, path: path, into: &failures) }
        if let choices = schema["anyOf"]?.arrayValue {
            let passing = choices.filter { passes(instance, $0, path: path) }
            if passing.isEmpty { fail("anyOf", "matches none of \(choices.count) choices") }
        }
        if let choices = schema["oneOf"]?.arrayValue {
            let passing = choices.filter { passes(instance, $0, path: path) }.count
            if passing != 1 { fail("oneOf", "matches \(passing) of \(choices.count) choices, exactly one needed") }
        }
        if let condition = schema["if"] {
            if passes(instance, condition, path: path) {
                if let then = schema["then"] { validate(instance, against: then, path: path, into: &failures) }
            } else if let otherwise = schema["else"] {
                validate(instance, against: otherwise, path: path, into: &failures)
            }
        }
    }

    private func passes(_ instance: JSONValue, _ schema: JSONValue, path: String) -> Bool {
        var failures: [Failure] = []
        validate(instance, against: schema, path: path, into: &failures)
        return failures.isEmpty
    }

    /// JSON Schema's types: an integer is any number without a fraction (`4.0` is one).
    static func matches(_ instance: JSONValue, type: String) -> Bool {
        switch (type, instance) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
        case ("number", .int), ("number", .double): true
        case ("integer", .int): true
        case ("integer", .double(let d)): d.isFinite && d == d.rounded()
        default: false
        }
    }

    /// JSON equality: numbers by value (`1` equals `1.0`), objects regardless of key order.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int, .int), (.int, .double), (.double, .int), (.double, .double): a.doubleValue == b.doubleValue
        case (.array(let x), .array(let y)): x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)): x.count == y.count && x.allSatisfy { key, value in y[key].map { equal(value, $0) } ?? false }
        default: a == b
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): "boolean \(b)"
        case .int(let i): "integer \(i)"
        case .double(let d): "number \(d)"
        case .string(let s): "string \(JSONValue.string(s).jsonText)"
        case .array(let a): "array of \(a.count)"
        case .object: "object"
        }
    }
}
