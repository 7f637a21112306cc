import Foundation

/// The secrets in a libpq connection string (a URI's password, a `password=` keyword or query
/// parameter), so that an error that quotes part of the string never carries them into a log.
/// libpq does quote them: a malformed URI's error repeats the bad token
/// (`invalid percent-encoded token: "p%zz"`), and that token may be the password.
struct ConnectionSecrets {
    let secrets: [String]

    init(_ connectionString: String) {
        var found: [String] = []
        // postgresql://user:password@host/db?password=…
        if let scheme = connectionString.range(of: "://") {
            let rest = connectionString[scheme.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                found.append(String(authority[authority.index(after: colon)..<at]))
            }
            if let query = rest.firstIndex(of: "?") {
                for pair in rest[rest.index(after: query)...].split(separator: "&") where pair.hasPrefix("password=") {
                    found.append(String(pair.dropFirst("password=".count)))
                }
            }
        }
        // host=… password=secret (keyword/value form; a quoted value may hold spaces).
        if let keyword = connectionString.range(of: #"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)"#, options: .regularExpression) {
            let value = connectionString[keyword].split(separator: "=", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
            found.append(value)
            found.append(value.trimmingCharacters(in: CharacterSet(charactersIn: "'")))
        }
        var all = Set<String>()
        for secret in found where !secret.isEmpty {
            all.insert(secret)
            if let decoded = secret.removingPercentEncoding, !decoded.isEmpty { all.insert(decoded) }
        }
        // Longest first, so that a secret containing another is replaced whole.
        secrets = all.sorted { $0.count > $1.count }
    }

    /// `message` with every secret, and every quoted token that is part of one, replaced.
    func redact(_ message: String) -> String {
        var out = message
        for secret in secrets { out = out.replacingOccurrences(of: secret, with: "<redacted>") }
        // A quoted fragment of a secret (libpq quotes the token it could not parse).
        let quoted = try! NSRegularExpression(pattern: #""([^"]+)""#)
        for match in quoted.matches(in: out, range: NSRange(out.startIndex..., in: out)).reversed() {
            guard let range = Range(match.range(at: 1), in: out) else { continue }
            let token = String(out[range])
            if token.count >= 2, secrets.contains(where: { $0.contains(token) }) {
                out.replaceSubrange(range, with: "<redacted>")
            }
        }
        return out
    }
}
