import TOMLKit

/// Reads reeld.toml text with TOMLKit into ``ConfigValue`` tables, after the checks TOMLKit
/// cannot make itself (size, ``TOMLPrecheck``) and with keys kept apart by their Unicode scalars.
enum TOMLReader {
    /// A hundred times the shipped reeld.toml (10 KiB with every key documented). It bounds the
    /// time and memory of one parse, which matters because TOMLKit 0.6.0 never frees a parsed
    /// document: every reload leaks one.
    static let maxBytes = 1 << 20

    /// The root table of `text`, and where its keys were written; errors name `source`, and a
    /// syntax error its line and column.
    static func read(_ text: String, source: String) throws(ConfigError) -> (root: [String: ConfigValue], locator: KeyLocator) {
        guard text.utf8.count <= maxBytes else { throw tooLarge(source: source) }
        let bytes = Array(text.utf8)
        let locator = KeyLocator(bytes: bytes, statementStarts: try TOMLPrecheck.check(bytes, source: source))
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let begin = error.source.begin
            throw ConfigError(
                source: source, position: TOMLPosition(line: begin.line, column: begin.column), key: nil,
                message: error.description
            )
        } catch {
            throw ConfigError(source: source, position: nil, key: nil, message: "cannot parse the file: \(error)")
        }
        return (try entries(of: table, path: [], source: source, locator: locator), locator)
    }

    static func tooLarge(source: String) -> ConfigError {
        ConfigError(
            source: source, position: nil, key: nil,
            message: "the file has more than \(maxBytes) bytes (1 MiB), far more than any configuration needs"
        )
    }

    /// A table's entries. TOML tells keys apart by their Unicode scalars, a Swift dictionary by
    /// canonical equivalence, so two keys like "é" (U+00E9) and "é" (U+0065 U+0301) would
    /// silently become one: such a pair is refused.
    private static func entries(
        of table: TOMLTable, path: [String], source: String, locator: KeyLocator
    ) throws(ConfigError) -> [String: ConfigValue] {
        var out: [String: ConfigValue] = [:]
        // `keys` and `values` come from two walks of the same toml++ map, so they pair up by
        // index; TOMLKit's own iterator looks each key up again and traps when it cannot.
        for (key, value) in zip(table.keys, table.values) {
            if let earlier = out.index(forKey: key) {
                let first = out[earlier].key
                throw ConfigError(
                    source: source, position: locator.position(of: path + [key]), key: (path + [key]).joined(separator: "."),
                    message: "keys \(spelled(first)) and \(spelled(key)) are different TOML keys that read the same; keep one"
                )
            }
            out[key] = try convert(value, path: path + [key], source: source, locator: locator)
        }
        return out
    }

    /// TOMLKit's accessors are optional even after its `type` has said which one applies, hence
    /// the fallbacks that never apply.
    private static func convert(
        _ value: any TOMLValueConvertible, path: [String], source: String, locator: KeyLocator
    ) throws(ConfigError) -> ConfigValue {
        switch value.type {
        case .bool: .bool(value.bool ?? false)
        case .int: .int(Int64(value.int ?? 0))
        case .double: .double(value.double ?? 0)
        case .string: .string(value.string ?? "")
        case .date: .date
        case .time: .time
        case .dateTime: .dateTime
        case .table: .table(try value.table.map { (t) throws(ConfigError) in try entries(of: t, path: path, source: source, locator: locator) } ?? [:])
        case .array:
            .array(try (value.array.map(Array.init) ?? []).map { (element) throws(ConfigError) in
                try convert(element, path: path, source: source, locator: locator)
            })
        }
    }

    /// A key with its scalars, so that the two spellings of a refused pair can be told apart.
    static func spelled(_ key: String) -> String {
        let scalars = key.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true).leftPadded(to: 4) }
        return "\"\(key)\" (\(scalars.joined(separator: " ")))"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
