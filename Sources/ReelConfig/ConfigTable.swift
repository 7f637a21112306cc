/// Reads one TOML table into typed settings, remembering which keys were asked for so that
/// ``finish()`` can reject the rest: a misspelt key must fail loudly, not fall back to a default.
///
/// Keys match reeld's names scalar by scalar, as TOML compares them: Swift's `==` would also
/// accept a canonically equivalent spelling of a name, which TOML counts as another key.
struct ConfigTable {
    let path: [String]
    let entries: [String: ConfigValue]
    let source: String
    let locator: KeyLocator
    private var asked: [String] = []

    init(path: [String], entries: [String: ConfigValue], source: String, locator: KeyLocator) {
        self.path = path
        self.entries = entries
        self.source = source
        self.locator = locator
    }

    func dotted(_ key: String) -> String { (path + [key]).joined(separator: ".") }

    /// An error about `key`, at the statement that wrote it (or its table, for a missing key).
    func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(
            source: source, position: locator.position(of: path + [key]) ?? locator.position(of: path),
            key: dotted(key), message: message
        )
    }

    /// The value written for exactly this key.
    func entry(_ key: String) -> ConfigValue? {
        guard let index = entries.index(forKey: key), entries[index].key.unicodeScalars.elementsEqual(key.unicodeScalars) else {
            return nil
        }
        return entries[index].value
    }

    private mutating func take(_ key: String) -> ConfigValue? {
        asked.append(key)
        return entry(key)
    }

    mutating func int(_ key: String, default value: Int, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let raw = take(key) else { return value }
        guard case .int(let i) = raw else { throw error(key, "expected an integer, found \(raw.kind)") }
        guard let n = Int(exactly: i), range.contains(n) else {
            if range.upperBound == .max { throw error(key, "must be at least \(range.lowerBound) (found \(i))") }
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound) (found \(i))")
        }
        return n
    }

    /// An integer key holding whole seconds (`*_seconds`).
    mutating func seconds(_ key: String, default value: Duration, in range: ClosedRange<Int>) throws(ConfigError) -> Duration {
        guard entry(key) != nil else {
            asked.append(key)
            return value
        }
        return .seconds(try int(key, default: 0, in: range))
    }

    /// An integer key that may be absent (nil).
    mutating func optionalInt(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard entry(key) != nil else {
            asked.append(key)
            return nil
        }
        return try int(key, default: 0, in: range)
    }

    /// A limit: an integer in `range`, or the string "unlimited" (nil).
    mutating func limit(_ key: String, default value: Int?, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let raw = entry(key) else {
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
        default: throw error(key, "expected a number, found \(raw.kind)")
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
        guard case .bool(let b) = raw else { throw error(key, "expected true or false, found \(raw.kind)") }
        return b
    }

    mutating func string(_ key: String) throws(ConfigError) -> String? {
        guard let raw = take(key) else { return nil }
        guard case .string(let s) = raw else { throw error(key, "expected a string, found \(raw.kind)") }
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

    mutating func array(_ key: String) throws(ConfigError) -> [ConfigValue]? {
        guard let raw = take(key) else { return nil }
        guard case .array(let a) = raw else { throw error(key, "expected an array, found \(raw.kind)") }
        return a
    }

    /// A sub-table; a missing one reads as empty, so every key takes its default.
    mutating func table(_ key: String) throws(ConfigError) -> ConfigTable {
        let raw = take(key) ?? .table([:])
        guard case .table(let o) = raw else { throw error(key, "expected a table, found \(raw.kind)") }
        return ConfigTable(path: path + [key], entries: o, source: source, locator: locator)
    }

    /// Rejects keys nobody asked for, naming the first in sorted order and the keys that exist.
    func finish() throws(ConfigError) {
        let unknown = entries.keys.filter { key in !asked.contains { $0.unicodeScalars.elementsEqual(key.unicodeScalars) } }
        guard let first = unknown.min() else { return }
        let what = if case .table = entries[first] { "unknown table [\(dotted(first))]" } else { "unknown key" }
        let known = asked.isEmpty ? "none" : asked.joined(separator: ", ")
        let within = path.isEmpty ? "at the top level" : "in [\(path.joined(separator: "."))]"
        throw error(first, "\(what); known \(within): \(known)")
    }
}
