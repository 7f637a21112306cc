/// Expands `${NAME}` in configured paths, so a path can point into directories systemd
/// creates per service (`${CREDENTIALS_DIRECTORY}/database-url`, `${STATE_DIRECTORY}`).
///
/// Only the braced form is recognised; a `$` not followed by `{` is kept as written.
/// An unset variable is an error rather than an empty string, which would silently
/// turn `${CREDENTIALS_DIRECTORY}/database-url` into `/database-url`.
enum EnvironmentExpansion {
    static func expand(_ text: String, environment: [String: String]) throws(ExpansionError) -> String {
        var out = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let afterDollar = rest.index(after: dollar)
            guard afterDollar < rest.endIndex, rest[afterDollar] == "{" else {
                out.append("$")
                rest = rest[afterDollar...]
                continue
            }
            let nameStart = rest.index(after: afterDollar)
            guard let close = rest[nameStart...].firstIndex(of: "}") else {
                throw .unterminated
            }
            let name = String(rest[nameStart..<close])
            guard isValidName(name) else { throw .invalidName(name) }
            guard let value = environment[name] else { throw .unset(name) }
            out += value
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    enum ExpansionError: Error, CustomStringConvertible {
        case unterminated
        case invalidName(String)
        case unset(String)

        var description: String {
            switch self {
            case .unterminated: "'${' without a closing '}'"
            case .invalidName(let name): "'${\(name)}' is not a valid environment variable name"
            case .unset(let name): "environment variable \(name) is not set"
            }
        }
    }
}
