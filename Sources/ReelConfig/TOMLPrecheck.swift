/// The checks a text must pass before TOMLKit sees it, each for an input that TOMLKit 0.6.0
/// (toml++ 3.4 underneath) would crash on or misread instead of rejecting.
///
/// - Nesting: toml++ stops arrays and inline tables at 256 levels (`TOML_MAX_NESTED_VALUES`),
///   but not dotted keys and table headers: `a.a.a… = 1` with 100,000 parts builds 100,000
///   nested tables, which toml++ then walks recursively and overflows the stack. The scan
///   bounds how deep keys reach by counting their dots, so together with toml++'s own limit
///   no document nests deeper than a few hundred levels.
/// - NUL: TOMLKit passes the text, every key and every string as C strings, so a NUL byte or a
///   `\u0000` escape cuts them short without an error (and a key cut short makes TOMLKit's
///   own lookup trap).
///
/// The scan knows just enough TOML to skip strings and comments; it never decides whether a
/// text is valid, which is TOMLKit's job. For any text it overestimates key depth, never
/// underestimates it. On the way it notes where each top-level statement starts, which is all
/// ``KeyLocator`` needs to find a key's line.
enum TOMLPrecheck {
    /// reeld's deepest key has six parts (`costs."video.generate".models."veo-3.1".per_unit.video_seconds`);
    /// ten times that leaves room for any layout and stays far from the stack's limits.
    static let maxKeyDepth = 64

    /// The byte offsets where the text's top-level statements (`key = value`, `[header]`) start.
    static func check(_ bytes: [UInt8], source: String) throws(ConfigError) -> [Int] {
        var scanner = Scanner(bytes: bytes)
        guard let (message, offset) = scanner.run() else { return scanner.statementStarts }
        throw ConfigError(source: source, position: position(of: offset, in: bytes), key: nil, message: message)
    }

    /// Line and column (counting Unicode scalars) of a byte offset.
    static func position(of offset: Int, in bytes: [UInt8]) -> TOMLPosition {
        var line = 1
        var column = 1
        for b in bytes[..<offset] {
            if b == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
        }
        return TOMLPosition(line: line, column: column)
    }
}

private struct Scanner {
    let bytes: [UInt8]
    var index = 0
    /// The parts of the key in the last `[header]`.
    var headerDepth = 0
    /// Dots in the chain of keys leading to the current place in this statement.
    var dots = 0
    /// For each `[` or `{` still open, `dots` where it opened: a `,` or the closing bracket goes back to it.
    var open: [Int] = []
    var atStatementStart = true
    var inHeader = false
    var statementStarts: [Int] = []

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// The first problem, as a message and a byte offset, or nil.
    mutating func run() -> (String, Int)? {
        if let nul = bytes.firstIndex(of: 0) {
            return ("a NUL character is not allowed in the file", nul)
        }
        // A byte order mark is not a statement: a header right after it is still a header.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "#"):
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
                continue
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                noteStatementStart()
                if let failure = skipString() { return failure }
                atStatementStart = false
                continue
            case UInt8(ascii: "\n"):
                guard open.isEmpty else { break }
                if inHeader { closeHeader() }
                dots = 0
                atStatementStart = true
            case UInt8(ascii: "["):
                if open.isEmpty, atStatementStart {
                    noteStatementStart()
                    inHeader = true
                    headerDepth = 0
                    dots = 0
                    if peek(1) == UInt8(ascii: "[") { index += 1 }
                } else {
                    open.append(dots)
                }
                atStatementStart = false
            case UInt8(ascii: "{"):
                open.append(dots)
                atStatementStart = false
            case UInt8(ascii: "]"):
                if inHeader, open.isEmpty {
                    closeHeader()
                    if peek(1) == UInt8(ascii: "]") { index += 1 }
                } else if let saved = open.popLast() {
                    dots = saved
                }
            case UInt8(ascii: "}"):
                if let saved = open.popLast() { dots = saved }
            case UInt8(ascii: ","):
                if let saved = open.last { dots = saved }
            case UInt8(ascii: "."):
                dots += 1
                if headerDepth + dots + 1 > TOMLPrecheck.maxKeyDepth {
                    return ("keys are nested more than \(TOMLPrecheck.maxKeyDepth) levels deep (reeld's deepest setting has 6)", index)
                }
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                break
            default:
                noteStatementStart()
                atStatementStart = false
            }
            index += 1
        }
        return nil
    }

    mutating func noteStatementStart() {
        if atStatementStart, open.isEmpty { statementStarts.append(index) }
    }

    mutating func closeHeader() {
        headerDepth = dots + 1
        dots = 0
        inHeader = false
    }

    func peek(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

    /// Moves past a string of any of TOML's four kinds; fails on a `\u0000` escape.
    mutating func skipString() -> (String, Int)? {
        let quote = bytes[index]
        let multiLine = peek(1) == quote && peek(2) == quote
        index += multiLine ? 3 : 1
        while index < bytes.count {
            let b = bytes[index]
            if b == quote {
                guard multiLine else {
                    index += 1
                    return nil
                }
                if peek(1) == quote, peek(2) == quote {
                    index += 3
                    // One or two more quotes still belong to the string: `"""a""""` holds `a"`.
                    for _ in 0..<2 where peek(0) == quote { index += 1 }
                    return nil
                }
            } else if b == UInt8(ascii: "\\"), quote == UInt8(ascii: "\"") {
                if isNULEscape() {
                    return ("the escape for NUL (\\u0000) is not allowed: reeld could only read the text before it", index)
                }
                index += 2
                continue
            } else if b == UInt8(ascii: "\n"), !multiLine {
                // Unterminated: TOMLKit reports it; the newline ends the statement here as well.
                return nil
            }
            index += 1
        }
        return nil
    }

    func isNULEscape() -> Bool {
        switch peek(1) {
        case UInt8(ascii: "u"): (2...5).allSatisfy { peek($0) == UInt8(ascii: "0") }
        case UInt8(ascii: "U"): (2...9).allSatisfy { peek($0) == UInt8(ascii: "0") }
        default: false
        }
    }
}
