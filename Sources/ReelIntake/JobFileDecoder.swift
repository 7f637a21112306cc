import Crypto
import Foundation
import ReelCore

/// Turns the bytes of a spool job file into a `JobSubmission`, or says precisely what is wrong.
///
/// Pure: no I/O, no clock. The format is documented in README.md (the spool section) and published as
/// `config/job-file.schema.json` (generated from the same rules, see `JobFileSchema`).
public struct JobFileDecoder: Sendable {
    /// The top-level fields a job file may have; anything else is an error, so a typo
    /// (`"priorty"`) is refused instead of silently ignored.
    static let topLevelFields: [String] = [
        "kind", "args", "user_id", "project_id", "idempotency_key", "priority", "run_at", "max_attempts",
    ]
    static let idempotencyKeyLength = 1...255
    static let priorityRange: ClosedRange<Int64> = 0...1000
    static let maxAttemptsRange: ClosedRange<Int64> = 1...100

    public init() {}

    /// Decodes and validates one job file.
    ///
    /// The idempotency key is the file's own `idempotency_key`, else `"spool:"` followed by the
    /// SHA-256 of the file's bytes in hex, so dropping the same file twice queues one job.
    public func decode(_ bytes: some Collection<UInt8>) throws(JobFileInvalid) -> JobSubmission {
        let data = Data(bytes)
        let document: JSONValue
        do {
            document = try JSONValue(parsing: data)
        } catch {
            throw JobFileInvalid([IntakeProblem(path: "$", expected: "a JSON object", got: "malformed JSON (\(error))")])
        }
        guard case .object(let fields) = document else {
            throw JobFileInvalid([IntakeProblem(path: "$", expected: "a JSON object", got: Self.describe(document))])
        }

        var problems: [IntakeProblem] = []
        // PostgreSQL's text and jsonb cannot hold U+0000: refused here, with where it is, rather
        // than cut short or refused by the database later.
        Self.findNUL(in: document, at: "$", into: &problems)
        for name in fields.keys.sorted() where !Self.topLevelFields.contains(name) {
            problems.append(IntakeProblem(
                path: Self.path("$", name), expected: "no such field (allowed: \(Self.topLevelFields.joined(separator: ", ")))",
                got: Self.describe(fields[name])))
        }

        let kind = decodeKind(fields["kind"], into: &problems)
        let userID = decodeUUID(fields["user_id"], at: "$.user_id", into: &problems)
        let projectID = decodeUUID(fields["project_id"], at: "$.project_id", into: &problems)
        let key = decodeString(fields["idempotency_key"], at: "$.idempotency_key", length: Self.idempotencyKeyLength, into: &problems)
        let priority = decodeInteger(fields["priority"], at: "$.priority", range: Self.priorityRange, into: &problems)
        let maxAttempts = decodeInteger(fields["max_attempts"], at: "$.max_attempts", range: Self.maxAttemptsRange, into: &problems)
        let runAt = decodeDate(fields["run_at"], at: "$.run_at", into: &problems)

        var args: JSONValue = [:]
        switch fields["args"] {
        case nil: break
        case .object(let o)?: args = .object(o)
        case let other?: problems.append(IntakeProblem(path: "$.args", expected: "an object", got: Self.describe(other)))
        }

        if let kind, let spec = KindArguments.table[kind] {
            if spec.requiresProjectID, fields["project_id"] == nil {
                problems.append(IntakeProblem(
                    path: "$.project_id", expected: "a project UUID (\(kind) works on a project)", got: Self.describe(nil)))
            }
            if spec.requiresOwner, fields["user_id"] == nil, fields["project_id"] == nil {
                problems.append(IntakeProblem(
                    path: "$.user_id", expected: "a user UUID, or a project_id (\(kind) needs a user or a project)",
                    got: Self.describe(nil)))
            }
            if case .object(let argFields) = args {
                validate(argFields, against: spec, into: &problems)
            }
        }

        guard problems.isEmpty, let kind else { throw JobFileInvalid(problems) }
        return JobSubmission(
            kind: kind, args: args, userID: userID, projectID: projectID,
            idempotencyKey: key ?? Self.contentKey(data), priority: priority.map(Int.init) ?? 100,
            runAt: runAt, maxAttempts: maxAttempts.map(Int.init))
    }

    /// The idempotency key of a file that carries none: `spool:` + hex SHA-256 of its bytes.
    public static func contentKey(_ bytes: some DataProtocol) -> String {
        "spool:" + SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    // MARK: - Fields

    private func decodeKind(_ value: JSONValue?, into problems: inout [IntakeProblem]) -> JobKind? {
        let expected = "one of " + KindArguments.knownKinds.map { "\"\($0)\"" }.joined(separator: ", ")
        guard case .string(let name)? = value else {
            problems.append(IntakeProblem(path: "$.kind", expected: expected, got: Self.describe(value)))
            return nil
        }
        let kind = JobKind(name)
        guard KindArguments.table[kind] != nil else {
            problems.append(IntakeProblem(
                path: "$.kind", expected: expected, got: Self.describe(value), message: "$.kind: unknown job kind \"\(name)\"; expected \(expected)"))
            return nil
        }
        return kind
    }

    private func validate(_ args: [String: JSONValue], against spec: KindArguments, into problems: inout [IntakeProblem]) {
        let rules = spec.allRules
        for name in args.keys.sorted() where !rules.contains(where: { $0.name == name }) {
            let allowed = rules.map(\.name).joined(separator: ", ")
            problems.append(IntakeProblem(
                path: Self.path("$.args", name), expected: "no such argument for \(spec.kind) (allowed: \(allowed))",
                got: Self.describe(args[name])))
        }
        for rule in rules {
            let path = Self.path("$.args", rule.name)
            guard let value = args[rule.name] else {
                if rule.required {
                    problems.append(IntakeProblem(path: path, expected: rule.expectation, got: Self.describe(nil)))
                }
                continue
            }
            if !Self.matches(value, rule.type) {
                problems.append(IntakeProblem(path: path, expected: rule.expectation, got: Self.describe(value)))
            }
        }
    }

    static func matches(_ value: JSONValue, _ type: ArgumentRule.ValueType) -> Bool {
        switch type {
        case .string(let length):
            guard case .string(let s) = value else { return false }
            return length.map { $0.contains(s.unicodeScalars.count) } ?? true
        case .integer(let range):
            guard let i = value.intValue else { return false }
            return range.map { $0.contains(i) } ?? true
        case .number(let range):
            guard let d = value.doubleValue, d.isFinite else { return false }
            return range.map { $0.contains(d) } ?? true
        case .uuid:
            guard case .string(let s) = value else { return false }
            return UUID(text: s) != nil
        case .oneOf(let allowed):
            guard case .string(let s) = value else { return false }
            return allowed.contains(s)
        }
    }

    private func decodeUUID(_ value: JSONValue?, at path: String, into problems: inout [IntakeProblem]) -> UUID? {
        guard let value else { return nil }
        if case .string(let s) = value, let id = UUID(text: s) { return id }
        problems.append(IntakeProblem(path: path, expected: "a UUID string", got: Self.describe(value)))
        return nil
    }

    private func decodeString(
        _ value: JSONValue?, at path: String, length: ClosedRange<Int>, into problems: inout [IntakeProblem]
    ) -> String? {
        guard let value else { return nil }
        if case .string(let s) = value, length.contains(s.unicodeScalars.count) { return s }
        problems.append(IntakeProblem(
            path: path, expected: "a string of \(length.lowerBound) to \(length.upperBound) characters", got: Self.describe(value)))
        return nil
    }

    private func decodeInteger(
        _ value: JSONValue?, at path: String, range: ClosedRange<Int64>, into problems: inout [IntakeProblem]
    ) -> Int64? {
        guard let value else { return nil }
        if let i = value.intValue, range.contains(i) { return i }
        problems.append(IntakeProblem(
            path: path, expected: "an integer from \(range.lowerBound) to \(range.upperBound)", got: Self.describe(value)))
        return nil
    }

    private func decodeDate(_ value: JSONValue?, at path: String, into problems: inout [IntakeProblem]) -> Date? {
        guard let value else { return nil }
        if case .string(let s) = value, let date = Self.parseISO8601(s) { return date }
        problems.append(IntakeProblem(
            path: path, expected: "an ISO-8601 date-time with a time zone (2026-01-31T09:30:00Z)", got: Self.describe(value)))
        return nil
    }

    static func parseISO8601(_ text: String) -> Date? {
        if let d = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return d }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    // MARK: - Describing what was found

    static func path(_ parent: String, _ name: String) -> String {
        let plain = !name.isEmpty && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        if plain { return parent + "." + name }
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return parent + "['" + escaped + "']"
    }

    /// A short description of a found value for `IntakeProblem.got`: its JSON type and a preview.
    static func findNUL(in value: JSONValue, at path: String, into problems: inout [IntakeProblem]) {
        switch value {
        case .string(let text) where text.unicodeScalars.contains("\u{0}"):
            problems.append(IntakeProblem(path: path, expected: "text without NUL (U+0000) characters", got: "a string holding U+0000"))
        case .array(let items):
            for (index, item) in items.enumerated() { findNUL(in: item, at: "\(path)[\(index)]", into: &problems) }
        case .object(let fields):
            for (name, field) in fields.sorted(by: { $0.key < $1.key }) {
                if name.unicodeScalars.contains("\u{0}") {
                    problems.append(IntakeProblem(path: path, expected: "keys without NUL (U+0000) characters", got: "a key holding U+0000"))
                }
                findNUL(in: field, at: Self.path(path, name), into: &problems)
            }
        default: break
        }
    }

    static func describe(_ value: JSONValue?) -> String {
        switch value {
        case nil: return "nothing (field missing)"
        case .null?: return "null"
        case .bool(let b)?: return "boolean \(b)"
        case .int(let i)?: return "integer \(i)"
        case .double(let d)?: return "number \(d)"
        case .string(let s)?:
            let count = s.unicodeScalars.count
            let preview = count > 60 ? String(String.UnicodeScalarView(s.unicodeScalars.prefix(60))) + "…" : s
            return "string \(JSONValue.string(preview).jsonText) (\(count) characters)"
        case .array(let a)?: return "array of \(a.count) items"
        case .object(let o)?: return "object with \(o.count) fields"
        }
    }
}
