/// A value of reeld.toml as ``ConfigTable`` reads it: TOMLKit's types, detached from its C++ tree.
///
/// Dates and times carry no payload: no setting takes one, so they exist only for the error
/// that names what was found instead.
enum ConfigValue: Sendable, Hashable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case date
    case time
    case dateTime
    case array([ConfigValue])
    case table([String: ConfigValue])

    /// What the value is, for "expected an integer, found a date-time".
    var kind: String {
        switch self {
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a float"
        case .string: "a string"
        case .date: "a date"
        case .time: "a time"
        case .dateTime: "a date-time"
        case .array: "an array"
        case .table: "a table"
        }
    }

    /// The value as an error quotes it: scalars as written, anything else by its kind.
    var quoted: String {
        switch self {
        case .bool(let b): "\(b)"
        case .int(let i): "\(i)"
        case .double(let d): "\(d)"
        case .string(let s): "\"\(s)\""
        default: kind
        }
    }
}
