import ReelCore

/// A strict parser for the subset of TOML 1.0 that reeld's configuration uses.
///
/// Supported: `[a.b]` tables, `key = value` with bare, quoted and dotted keys, basic strings
/// (with escapes) and literal strings, decimal integers and floats (with `_`), booleans,
/// arrays (over several lines, trailing comma allowed), inline tables and comments.
/// Everything else — multi-line strings, dates and times, hex/octal/binary integers,
/// `inf`/`nan`, arrays of tables — is rejected by name rather than misread, as are duplicate keys
/// and tables defined twice. Every error carries a line and column.
///
/// Written by hand because no TOML package resolves from the local mirror; a config file is
/// small, so clarity wins over speed here.
public enum TOMLParser {
    /// Parses a whole document.
    public static func parse(_ text: String) throws(TOMLError) -> TOMLDocument {
        var parser = Parser(text)
        try parser.parseDocument()
        guard case .object(let root) = parser.root.json else { preconditionFailure("the root is a table") }
        return TOMLDocument(root: root, positions: parser.positions)
    }
}

// MARK: - Tree being built

/// A table while parsing: how it came to exist decides what may still be added to it.
private struct Table {
    enum Origin {
        /// Created as the parent of a header (`[a.b]` creates `a`); a later `[a]` may still define it.
        case implicit
        /// Defined by its own `[header]`.
        case header
        /// Created by a dotted key (`a.b = 1` creates `a`); more dotted keys may extend it.
        case dotted
        /// `{ … }`: complete as written, nothing may be added.
        case inline
    }

    var origin: Origin
    var entries: [String: Node] = [:]

    var json: JSONValue { .object(entries.mapValues(\.json)) }
}

private enum Node {
    case value(JSONValue)
    case table(Table)

    var json: JSONValue {
        switch self {
        case .value(let v): v
        case .table(let t): t.json
        }
    }
}

/// One part of a (possibly dotted) key, with where it was written.
private struct KeyPart {
    var name: String
    var position: TOMLPosition
}

// MARK: - Parser

private struct Parser {
    let scalars: [Unicode.Scalar]
    var index = 0
    var line = 1
    var lineStart = 0

    var root = Table(origin: .header)
    /// The table named by the last `[header]`.
    var currentPath: [String] = []
    var positions: [[String]: TOMLPosition] = [:]

    init(_ text: String) {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        self.scalars = scalars
    }

    // MARK: Reading

    var position: TOMLPosition { TOMLPosition(line: line, column: index - lineStart + 1) }
    var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }
    func peek(_ offset: Int) -> Unicode.Scalar? { index + offset < scalars.count ? scalars[index + offset] : nil }

    mutating func advance() {
        if scalars[index] == "\n" {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    func fail(_ message: String, at position: TOMLPosition? = nil) -> TOMLError {
        TOMLError(message, at: position ?? self.position)
    }

    mutating func expect(_ scalar: Unicode.Scalar, _ what: String) throws(TOMLError) {
        guard peek == scalar else { throw fail("expected \(what), found \(describe(peek))") }
        advance()
    }

    func describe(_ scalar: Unicode.Scalar?) -> String {
        switch scalar {
        case nil: "end of file"
        case "\n"?, "\r"?: "end of line"
        case let s? where s.value < 0x20 || s.value == 0x7F: "control character U+\(String(s.value, radix: 16, uppercase: true))"
        case let s?: "'\(s)'"
        }
    }

    mutating func skipSpaces() {
        while peek == " " || peek == "\t" { advance() }
    }

    /// True at a newline (`\n` or `\r\n`); a lone `\r` is an error.
    func atNewline() throws(TOMLError) -> Bool {
        if peek == "\n" { return true }
        if peek == "\r" {
            guard peek(1) == "\n" else { throw fail("carriage return not followed by a line feed") }
            return true
        }
        return false
    }

    mutating func skipNewline() {
        if peek == "\r" { advance() }
        advance()
    }

    mutating func skipComment() throws(TOMLError) {
        guard peek == "#" else { return }
        while let c = peek, c != "\n" {
            if c == "\r", peek(1) == "\n" { break }
            if (c.value < 0x20 && c != "\t") || c.value == 0x7F { throw fail("\(describe(c)) in a comment") }
            advance()
        }
    }

    /// Spaces, comments and newlines, as allowed between array elements.
    mutating func skipBlank() throws(TOMLError) {
        while true {
            skipSpaces()
            try skipComment()
            guard try atNewline() else { return }
            skipNewline()
        }
    }

    /// After a statement only a comment may follow on the same line.
    mutating func expectLineEnd() throws(TOMLError) {
        skipSpaces()
        try skipComment()
        if peek == nil { return }
        guard try atNewline() else { throw fail("expected the end of the line, found \(describe(peek))") }
        skipNewline()
    }

    // MARK: Statements

    mutating func parseDocument() throws(TOMLError) {
        while true {
            skipSpaces()
            try skipComment()
            guard let c = peek else { return }
            if try atNewline() {
                skipNewline()
                continue
            }
            if c == "[" {
                try parseHeader()
            } else {
                try parseKeyValue()
            }
            try expectLineEnd()
        }
    }

    mutating func parseHeader() throws(TOMLError) {
        let start = position
        advance()
        if peek == "[" { throw fail("arrays of tables ([[…]]) are not supported", at: start) }
        skipSpaces()
        let keys = try parseKey()
        skipSpaces()
        try expect("]", "']' to close the table header")
        try Self.openHeader(keys[...], in: &root, path: [])
        currentPath = keys.map(\.name)
        for i in 1..<keys.count where positions[Array(currentPath.prefix(i))] == nil {
            positions[Array(currentPath.prefix(i))] = keys[i - 1].position
        }
        positions[currentPath] = start
    }

    mutating func parseKeyValue() throws(TOMLError) {
        let keys = try parseKey()
        skipSpaces()
        try expect("=", "'=' after the key")
        skipSpaces()
        let fullPath = currentPath + keys.map(\.name)
        let value = try parseValue(path: fullPath)
        let (tablePath, known) = (currentPath, positions)
        try Self.modify(tablePath[...], in: &root) { (table: inout Table) throws(TOMLError) in
            try Self.insert(keys[...], value, in: &table, path: tablePath, positions: known)
        }
        for i in 1...keys.count {
            let path = currentPath + keys.prefix(i).map(\.name)
            if positions[path] == nil { positions[path] = keys[i - 1].position }
        }
    }

    // MARK: Keys

    mutating func parseKey() throws(TOMLError) -> [KeyPart] {
        var parts: [KeyPart] = []
        while true {
            let start = position
            let name: String
            switch peek {
            case "\""?:
                if peek(1) == "\"", peek(2) == "\"" { throw fail("multi-line strings cannot be keys") }
                name = try parseBasicString()
            case "'"?:
                if peek(1) == "'", peek(2) == "'" { throw fail("multi-line strings cannot be keys") }
                name = try parseLiteralString()
            default:
                var bare = String.UnicodeScalarView()
                while let c = peek, Self.isBareKey(c) {
                    bare.append(c)
                    advance()
                }
                guard !bare.isEmpty else { throw fail("expected a key, found \(describe(peek))") }
                name = String(bare)
            }
            parts.append(KeyPart(name: name, position: start))
            skipSpaces()
            guard peek == "." else { return parts }
            advance()
            skipSpaces()
        }
    }

    static func isBareKey(_ c: Unicode.Scalar) -> Bool {
        ("A"..."Z").contains(c) || ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
    }

    // MARK: Values

    mutating func parseValue(path: [String]) throws(TOMLError) -> Node {
        let start = position
        switch peek {
        case "\""?:
            if peek(1) == "\"", peek(2) == "\"" { throw fail("multi-line strings (\"\"\") are not supported") }
            return .value(.string(try parseBasicString()))
        case "'"?:
            if peek(1) == "'", peek(2) == "'" { throw fail("multi-line literal strings (''') are not supported") }
            return .value(.string(try parseLiteralString()))
        case "["?:
            return .value(try parseArray(path: path))
        case "{"?:
            return .table(try parseInlineTable(path: path))
        case nil:
            throw fail("expected a value, found end of file")
        default:
            let token = scanToken()
            if token.isEmpty { throw fail("expected a value, found \(describe(peek))") }
            return .value(try Self.scalarValue(token, at: start))
        }
    }

    /// A bare value token: a number, boolean, or something unsupported to name in the error.
    mutating func scanToken() -> String {
        var token = String.UnicodeScalarView()
        while let c = peek, Self.isBareKey(c) || c == "+" || c == "." || c == ":" {
            token.append(c)
            advance()
        }
        return String(token)
    }

    static func scalarValue(_ token: String, at position: TOMLPosition) throws(TOMLError) -> JSONValue {
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf", "-inf", "nan", "+nan", "-nan":
            throw TOMLError("'\(token)': inf and nan are not supported", at: position)
        default: break
        }
        let s = Array(token.utf8)
        let isDigit = { (b: UInt8) in b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        if s.count >= 5, s[0..<4].allSatisfy(isDigit), s[4] == UInt8(ascii: "-") || token.contains(":") {
            throw TOMLError("'\(token)': dates and times are not supported; use a string", at: position)
        }
        if s.count >= 3, isDigit(s[0]), isDigit(s[1]), s[2] == UInt8(ascii: ":") {
            throw TOMLError("'\(token)': dates and times are not supported; use a string", at: position)
        }
        if token.hasPrefix("0x") || token.hasPrefix("0o") || token.hasPrefix("0b") {
            throw TOMLError("'\(token)': only decimal integers are supported", at: position)
        }
        guard let number = parseNumber(s) else {
            throw TOMLError("'\(token)' is not a value: expected a string, number, boolean, array or inline table", at: position)
        }
        switch number {
        case .integer(let digits):
            guard let i = Int64(digits) else { throw TOMLError("integer \(token) is out of range", at: position) }
            return .int(i)
        case .float(let text):
            guard let d = Double(text), d.isFinite else { throw TOMLError("float \(token) is out of range", at: position) }
            return .double(d)
        }
    }

    enum Number {
        case integer(String)
        case float(String)
    }

    /// Validates TOML's decimal grammar (no leading zeros, `_` only between digits) and returns
    /// the text without underscores, or nil.
    static func parseNumber(_ s: [UInt8]) -> Number? {
        var i = 0
        var out = ""
        if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            if s[i] == UInt8(ascii: "-") { out.append("-") }
            i += 1
        }
        func digits(_ allowLeadingZero: Bool) -> String? {
            var run = ""
            var lastWasDigit = false
            while i < s.count {
                let b = s[i]
                if b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                    run.append(Character(Unicode.Scalar(b)))
                    lastWasDigit = true
                } else if b == UInt8(ascii: "_"), lastWasDigit {
                    lastWasDigit = false
                } else {
                    break
                }
                i += 1
            }
            guard !run.isEmpty, lastWasDigit else { return nil }
            if !allowLeadingZero, run.count > 1, run.first == "0" { return nil }
            return run
        }
        guard let integerPart = digits(false) else { return nil }
        out += integerPart
        var isFloat = false
        if i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            guard let fraction = digits(true) else { return nil }
            out += "." + fraction
            isFloat = true
        }
        if i < s.count, s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") {
            i += 1
            out += "e"
            if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
                if s[i] == UInt8(ascii: "-") { out += "-" }
                i += 1
            }
            guard let exponent = digits(true) else { return nil }
            out += exponent
            isFloat = true
        }
        guard i == s.count else { return nil }
        return isFloat ? .float(out) : .integer(out)
    }

    mutating func parseBasicString() throws(TOMLError) -> String {
        advance()  // opening quote
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek else { throw fail("unterminated string: missing '\"'") }
            if c == "\n" || c == "\r" { throw fail("unterminated string: missing '\"' before the end of the line") }
            if c == "\"" {
                advance()
                return String(out)
            }
            if c == "\\" {
                let escapeStart = position
                advance()
                out.append(try parseEscape(start: escapeStart))
                continue
            }
            if (c.value < 0x20 && c != "\t") || c.value == 0x7F {
                throw fail("\(describe(c)) in a string; write it as an escape")
            }
            out.append(c)
            advance()
        }
    }

    mutating func parseEscape(start: TOMLPosition) throws(TOMLError) -> Unicode.Scalar {
        guard let c = peek else { throw fail("unterminated string: missing '\"'") }
        advance()
        switch c {
        case "b": return "\u{08}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{0C}"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let count = c == "u" ? 4 : 8
            var hex = ""
            for _ in 0..<count {
                guard let h = peek, h.properties.isASCIIHexDigit else {
                    throw fail("\\\(c) needs \(count) hexadecimal digits", at: start)
                }
                hex.unicodeScalars.append(h)
                advance()
            }
            guard let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else {
                throw fail("\\\(c)\(hex) is not a Unicode scalar value", at: start)
            }
            return scalar
        default:
            throw fail("invalid escape '\\\(c)'", at: start)
        }
    }

    mutating func parseLiteralString() throws(TOMLError) -> String {
        advance()
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek else { throw fail("unterminated literal string: missing \"'\"") }
            if c == "\n" || c == "\r" { throw fail("unterminated literal string: missing \"'\" before the end of the line") }
            if c == "'" {
                advance()
                return String(out)
            }
            if (c.value < 0x20 && c != "\t") || c.value == 0x7F { throw fail("\(describe(c)) in a literal string") }
            out.append(c)
            advance()
        }
    }

    mutating func parseArray(path: [String]) throws(TOMLError) -> JSONValue {
        advance()
        var elements: [JSONValue] = []
        while true {
            try skipBlank()
            if peek == "]" {
                advance()
                return .array(elements)
            }
            elements.append(try parseValue(path: path + ["\(elements.count)"]).json)
            try skipBlank()
            switch peek {
            case ","?: advance()
            case "]"?:
                advance()
                return .array(elements)
            default: throw fail("expected ',' or ']' in the array, found \(describe(peek))")
            }
        }
    }

    mutating func parseInlineTable(path: [String]) throws(TOMLError) -> Table {
        advance()
        var table = Table(origin: .inline)
        skipSpaces()
        if peek == "}" {
            advance()
            return table
        }
        while true {
            skipSpaces()
            if try atNewline() { throw fail("inline tables must be on one line") }
            let keys = try parseKey()
            skipSpaces()
            try expect("=", "'=' after the key")
            skipSpaces()
            let keyPath = path + keys.map(\.name)
            let value = try parseValue(path: keyPath)
            try Self.insert(keys[...], value, in: &table, path: path, positions: positions)
            for i in 1...keys.count {
                let p = path + keys.prefix(i).map(\.name)
                if positions[p] == nil { positions[p] = keys[i - 1].position }
            }
            skipSpaces()
            if try atNewline() { throw fail("inline tables must be on one line") }
            switch peek {
            case ","?:
                advance()
                skipSpaces()
                if peek == "}" { throw fail("trailing comma in an inline table") }
            case "}"?:
                advance()
                return table
            default: throw fail("expected ',' or '}' in the inline table, found \(describe(peek))")
            }
        }
    }

    // MARK: Building the tree

    static func dotted(_ path: [String]) -> String {
        path.map { $0.allSatisfy { c in c.unicodeScalars.allSatisfy(isBareKey) } && !$0.isEmpty ? $0 : "\"\($0)\"" }
            .joined(separator: ".")
    }

    /// Applies `body` to the table at `path`, which a header has already created.
    static func modify(
        _ path: ArraySlice<String>, in table: inout Table, _ body: (inout Table) throws(TOMLError) -> Void
    ) throws(TOMLError) {
        guard let first = path.first else { return try body(&table) }
        guard case .table(var child)? = table.entries.removeValue(forKey: first) else {
            preconditionFailure("header tables exist before keys are added to them")
        }
        defer { table.entries[first] = .table(child) }
        try modify(path.dropFirst(), in: &child, body)
    }

    /// Defines the table a `[header]` names, creating its parents as implicit tables.
    static func openHeader(_ keys: ArraySlice<KeyPart>, in table: inout Table, path: [String]) throws(TOMLError) {
        guard let key = keys.first else { return }
        let rest = keys.dropFirst()
        let here = path + [key.name]
        var child: Table
        switch table.entries[key.name] {
        case nil:
            child = Table(origin: rest.isEmpty ? .header : .implicit)
        case .value?:
            throw TOMLError("'\(dotted(here))' is already a value; it cannot also be a table", at: key.position)
        case .table(let existing)?:
            child = existing
            if existing.origin == .inline {
                throw TOMLError("'\(dotted(here))' is an inline table; it cannot be extended", at: key.position)
            }
            if rest.isEmpty {
                switch existing.origin {
                case .implicit: child.origin = .header
                case .dotted:
                    throw TOMLError("table [\(dotted(here))] is already defined by dotted keys", at: key.position)
                case .header, .inline:
                    throw TOMLError("table [\(dotted(here))] is defined twice", at: key.position)
                }
            }
        }
        try openHeader(rest, in: &child, path: here)
        table.entries[key.name] = .table(child)
    }

    /// Adds `key = value`, creating the tables a dotted key names.
    static func insert(
        _ keys: ArraySlice<KeyPart>, _ value: Node, in table: inout Table, path: [String],
        positions: [[String]: TOMLPosition]
    ) throws(TOMLError) {
        guard let key = keys.first else { return }
        let here = path + [key.name]
        let rest = keys.dropFirst()
        if rest.isEmpty {
            guard table.entries[key.name] == nil else {
                let first = positions[here].map { " (first defined at \($0))" } ?? ""
                throw TOMLError("duplicate key '\(dotted(here))'\(first)", at: key.position)
            }
            table.entries[key.name] = value
            return
        }
        var child: Table
        switch table.entries[key.name] {
        case nil:
            child = Table(origin: .dotted)
        case .value?:
            throw TOMLError("'\(dotted(here))' is already a value; it cannot also be a table", at: key.position)
        case .table(let existing)?:
            switch existing.origin {
            case .dotted: child = existing
            case .inline:
                throw TOMLError("'\(dotted(here))' is an inline table; it cannot be extended", at: key.position)
            case .header, .implicit:
                throw TOMLError(
                    "table '\(dotted(here))' has its own [header]; add the key in that section", at: key.position
                )
            }
        }
        try insert(rest, value, in: &child, path: here, positions: positions)
        table.entries[key.name] = .table(child)
    }
}
