import ReelCore

/// Reads one TOML table into typed settings, remembering which keys were asked for so that
/// ``finish()`` can reject the rest: a misspelt key must fail loudly, not fall back to a default.
struct ConfigTable {
    let path: [String]
    let entries: [String: JSONValue]
    let document: TOMLDocument
    let source: String
    private var asked: [String] = []

    init(path: [String], entries: [String: JSONValue], document: TOMLDocument, source: String) {
        self.path = path
        self.entries = entries
        self.document = document
        self.source = source
    }

    func dotted(_ key: String) -> String { (path + [key]).joined(separator: ".") }

    func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(
            source: source, position: document.position(of: path + [key]) ?? document.position(of: path),
            key: dotted(key), message: message
        )
    }

    private mutating func take(_ key: String) -> JSONValue? {
        asked.append(key)
        return entries[key]
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a float"
        case .string: "a string"
        case .array: "an array"
        case .object: "a table"
        }
    }

    mutating func int(_ key: String, default value: Int, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let raw = take(key) else { return value }
        guard case .int(let i) = raw else { throw error(key, "expected an integer, found \(Self.kind(raw))") }
        guard let n = Int(exactly: i), range.contains(n) else {
            if range.upperBound == .max { throw error(key, "must be at least \(range.lowerBound) (found \(i))") }
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound) (found \(i))")
        }
        return n
    }

    /// An integer key holding whole seconds (`*_seconds`).
    mutating func seconds(_ key: String, default value: Duration, in range: ClosedRange<Int>) throws(ConfigError) -> Duration {
        guard entries[key] != nil else {
            asked.append(key)
            return value
        }
        return .seconds(try int(key, default: 0, in: range))
    }

    /// An integer key that may be absent (nil).
    mutating func optionalInt(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard entries[key] != nil else {
            asked.append(key)
            return nil
        }
        return try int(key, default: 0, in: range)
    }

    /// A limit: an integer in `range`, or the string "unlimited" (nil).
    mutating func limit(_ key: String, default value: Int?, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let raw = entries[key] else {
            asked.append(key)
            return value
        }
        if case .string(let s) = raw {
            asked.append(key)
            guard s == "unlimited" else { throw error(key, "expected an integer or \"unlimited\", found \"\(s)\"") }
            return nil
        }
        return try int(key, default: 0, in: range)
    }

    /// A number (integer or float) in `range`.
    mutating func number(_ key: String, in range: ClosedRange<Double>) throws(ConfigError) -> Double {
        guard let raw = take(key) else { throw error(key, "is required") }
        let value: Double
        switch raw {
        case .int(let i): value = Double(i)
        case .double(let d): value = d
        default: throw error(key, "expected a number, found \(Self.kind(raw))")
        }
        guard range.contains(value) else {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound) (found \(value))")
        }
        return value
    }

    /// The keys this table holds (for tables keyed by name: providers, kinds, models).
    var keys: [String] { entries.keys.sorted() }

    mutating func bool(_ key: String, default value: Bool) throws(ConfigError) -> Bool {
        guard let raw = take(key) else { return value }
        guard case .bool(let b) = raw else { throw error(key, "expected true or false, found \(Self.kind(raw))") }
        return b
    }

    mutating func string(_ key: String) throws(ConfigError) -> String? {
        guard let raw = take(key) else { return nil }
        guard case .string(let s) = raw else { throw error(key, "expected a string, found \(Self.kind(raw))") }
        return s
    }

    /// One of a fixed set of words; the error lists them.
    mutating func choice<T: RawRepresentable>(_ key: String, default value: T, among all: [T]) throws(ConfigError) -> T
    where T.RawValue == String {
        guard let s = try string(key) else { return value }
        guard let v = T(rawValue: s) else {
            throw error(key, "'\(s)' is not one of " + all.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
        }
        return v
    }

    /// An absolute path, with `${VAR}` expanded from `environment`.
    mutating func path(_ key: String, default value: String, environment: [String: String]) throws(ConfigError) -> String {
        try path(key, environment: environment) ?? value
    }

    /// An absolute path with `${VAR}` expanded, or nil when the key is absent.
    mutating func path(_ key: String, environment: [String: String]) throws(ConfigError) -> String? {
        guard let raw = try string(key) else { return nil }
        let expanded: String
        do {
            expanded = try EnvironmentExpansion.expand(raw, environment: environment)
        } catch {
            throw self.error(key, error.description)
        }
        guard expanded.hasPrefix("/") else { throw error(key, "must be an absolute path (found \"\(expanded)\")") }
        return expanded
    }

    mutating func array(_ key: String) throws(ConfigError) -> [JSONValue]? {
        guard let raw = take(key) else { return nil }
        guard case .array(let a) = raw else { throw error(key, "expected an array, found \(Self.kind(raw))") }
        return a
    }

    /// A sub-table; a missing one reads as empty, so every key takes its default.
    mutating func table(_ key: String) throws(ConfigError) -> ConfigTable {
        let raw = take(key) ?? .object([:])
        guard case .object(let o) = raw else { throw error(key, "expected a table, found \(Self.kind(raw))") }
        return ConfigTable(path: path + [key], entries: o, document: document, source: source)
    }

    /// Rejects keys nobody asked for, naming the first one in the file and the keys that exist.
    func finish() throws(ConfigError) {
        let unknown = entries.keys.filter { !asked.contains($0) }
        guard !unknown.isEmpty else { return }
        let first = unknown.min { a, b in
            let pa = document.position(of: path + [a]), pb = document.position(of: path + [b])
            return (pa ?? TOMLPosition(line: .max, column: 0), a) < (pb ?? TOMLPosition(line: .max, column: 0), b)
        }!
        let what = if case .object = entries[first] { "unknown table [\(dotted(first))]" } else { "unknown key" }
        let known = asked.isEmpty ? "none" : asked.joined(separator: ", ")
        let within = path.isEmpty ? "at the top level" : "in [\(path.joined(separator: "."))]"
        throw error(first, "\(what); known \(within): \(known)")
    }
}
