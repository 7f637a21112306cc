/// What one field of a job's `args` must be. The same rules drive validation
/// (`JobFileDecoder`) and the published JSON Schema (`JobFileSchema`), so the two cannot drift.
struct ArgumentRule: Sendable, Hashable {
    enum ValueType: Sendable, Hashable {
        /// A string whose length in Unicode scalars (as JSON Schema counts it) is within `length`.
        case string(length: ClosedRange<Int>?)
        case integer(ClosedRange<Int64>?)
        case number(ClosedRange<Double>?)
        /// A UUID in its canonical text form.
        case uuid
        /// One of a fixed set of strings.
        case oneOf([String])
    }

    var name: String
    var type: ValueType
    var required: Bool

    static func required(_ name: String, _ type: ValueType) -> ArgumentRule {
        ArgumentRule(name: name, type: type, required: true)
    }

    static func optional(_ name: String, _ type: ValueType) -> ArgumentRule {
        ArgumentRule(name: name, type: type, required: false)
    }

    /// What a valid value looks like, for an `IntakeProblem.expected`.
    var expectation: String {
        switch type {
        case .string(nil): "a string"
        case .string(let r?) where r.upperBound == Int.max: "a string of at least \(r.lowerBound) characters"
        case .string(let r?): "a string of \(r.lowerBound) to \(r.upperBound) characters"
        case .integer(nil): "an integer"
        case .integer(let r?): "an integer from \(r.lowerBound) to \(r.upperBound)"
        case .number(nil): "a number"
        case .number(let r?): "a number from \(Self.format(r.lowerBound)) to \(Self.format(r.upperBound))"
        case .uuid: "a UUID string"
        case .oneOf(let values): "one of " + values.map { "\"\($0)\"" }.joined(separator: ", ")
        }
    }

    private static func format(_ d: Double) -> String {
        d == d.rounded() ? String(Int64(d)) : String(d)
    }
}
