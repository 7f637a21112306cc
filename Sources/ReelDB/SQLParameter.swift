import Foundation
import ReelCore

/// A value bound to a `$n` placeholder. Parameters travel as text and the SQL casts them
/// (`$1::uuid`), so no statement is ever built from input.
public protocol SQLParameter: Sendable {
    var sqlText: String? { get }
}

extension String: SQLParameter { public var sqlText: String? { self } }
extension Int: SQLParameter { public var sqlText: String? { String(self) } }
extension Int64: SQLParameter { public var sqlText: String? { String(self) } }
extension Int32: SQLParameter { public var sqlText: String? { String(self) } }
extension Double: SQLParameter { public var sqlText: String? { String(self) } }
extension Bool: SQLParameter { public var sqlText: String? { self ? "true" : "false" } }
extension UUID: SQLParameter { public var sqlText: String? { lowercasedText } }
extension JSONValue: SQLParameter { public var sqlText: String? { jsonText } }

extension Date: SQLParameter {
    /// RFC 3339 in UTC with microseconds, which is PostgreSQL's own precision.
    public var sqlText: String? {
        let micros = Int64((timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = time_t(micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000)
        let fraction = micros - Int64(seconds) * 1_000_000
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, fraction)
    }
}

extension Optional: SQLParameter where Wrapped: SQLParameter {
    public var sqlText: String? { self?.sqlText }
}

/// Binds an array as a PostgreSQL array literal (`{a,b}`), for `= any($1::uuid[])`.
public struct SQLArray<Element: SQLParameter>: SQLParameter {
    public var elements: [Element]
    public init(_ elements: [Element]) { self.elements = elements }

    public var sqlText: String? {
        "{" + elements.map { element in
            guard let text = element.sqlText else { return "NULL" }
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"" + escaped + "\""
        }.joined(separator: ",") + "}"
    }
}
