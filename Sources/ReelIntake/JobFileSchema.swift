import ReelCore

/// The JSON Schema (draft 2020-12) of a spool job file, built from the same rules the
/// decoder enforces. `config/job-file.schema.json` is this document; a test keeps them equal.
public enum JobFileSchema {
    /// The schema as JSON text, pretty-printed with sorted keys (the committed file's bytes).
    public static var text: String {
        var encoded = document.jsonTextPretty
        encoded.append("\n")
        return encoded
    }

    /// The schema as a JSON value.
    public static var document: JSONValue {
        let kinds = KindArguments.knownKinds
        var defs: [String: JSONValue] = [
            "uuid": [
                "type": "string",
                "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            ],
        ]
        var conditions: [JSONValue] = []
        for kind in kinds {
            guard let spec = KindArguments.table[kind] else { continue }
            let defName = "args:" + kind.rawValue
            var properties: [String: JSONValue] = [:]
            for rule in spec.allRules { properties[rule.name] = schema(of: rule.type) }
            let required = spec.allRules.filter(\.required).map { JSONValue.string($0.name) }
            var args: [String: JSONValue] = [
                "type": "object", "additionalProperties": false, "properties": .object(properties),
            ]
            if !required.isEmpty { args["required"] = .array(required) }
            defs[defName] = .object(args)

            var then: [String: JSONValue] = ["properties": ["args": ["$ref": .string("#/$defs/" + defName)]]]
            var thenRequired: [JSONValue] = []
            if !required.isEmpty { thenRequired.append("args") }
            if spec.requiresProjectID { thenRequired.append("project_id") }
            if !thenRequired.isEmpty { then["required"] = .array(thenRequired) }
            if spec.requiresOwner { then["anyOf"] = [["required": ["user_id"]], ["required": ["project_id"]]] }
            conditions.append([
                "if": ["properties": ["kind": ["const": .string(kind.rawValue)]], "required": ["kind"]],
                "then": .object(then),
            ])
        }

        let p = JobFileDecoder.priorityRange, m = JobFileDecoder.maxAttemptsRange, k = JobFileDecoder.idempotencyKeyLength
        return [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "urn:reeld:job-file",
            "title": "reeld spool job file",
            "description": "One job, dropped into the spool's new/ directory (write in tmp/, then rename into new/).",
            "type": "object",
            "required": ["kind"],
            "additionalProperties": false,
            "properties": [
                "kind": ["enum": .array(kinds.map { .string($0.rawValue) })],
                "args": ["type": "object"],
                "user_id": ["$ref": "#/$defs/uuid"],
                "project_id": ["$ref": "#/$defs/uuid"],
                "idempotency_key": [
                    "type": "string", "minLength": .int(Int64(k.lowerBound)), "maxLength": .int(Int64(k.upperBound)),
                ],
                "priority": ["type": "integer", "minimum": .int(p.lowerBound), "maximum": .int(p.upperBound)],
                "run_at": ["type": "string", "format": "date-time"],
                "max_attempts": ["type": "integer", "minimum": .int(m.lowerBound), "maximum": .int(m.upperBound)],
            ],
            "allOf": .array(conditions),
            "$defs": .object(defs),
        ]
    }

    private static func schema(of type: ArgumentRule.ValueType) -> JSONValue {
        switch type {
        case .string(let length):
            var s: [String: JSONValue] = ["type": "string"]
            if let length {
                s["minLength"] = .int(Int64(length.lowerBound))
                if length.upperBound != Int.max { s["maxLength"] = .int(Int64(length.upperBound)) }
            }
            return .object(s)
        case .integer(let range):
            var s: [String: JSONValue] = ["type": "integer"]
            if let range { s["minimum"] = .int(range.lowerBound); s["maximum"] = .int(range.upperBound) }
            return .object(s)
        case .number(let range):
            var s: [String: JSONValue] = ["type": "number"]
            if let range { s["minimum"] = number(range.lowerBound); s["maximum"] = number(range.upperBound) }
            return .object(s)
        case .uuid:
            return ["$ref": "#/$defs/uuid"]
        case .oneOf(let values):
            return ["enum": .array(values.map { .string($0) })]
        }
    }

    private static func number(_ d: Double) -> JSONValue {
        d == d.rounded() && abs(d) < 9e15 ? .int(Int64(d)) : .double(d)
    }
}
