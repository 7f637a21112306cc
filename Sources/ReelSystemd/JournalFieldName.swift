/// Turns swift-log metadata keys into journal field names, so `journalctl JOB_ID=…` finds
/// what was logged under `job_id` (or `jobID`, or `job-id`).
///
/// journald accepts only `A-Z`, `0-9` and `_`, at most 64 characters, not starting with a digit;
/// a leading `_` marks fields only journald itself may set, and a client sending one is ignored.
public enum JournalFieldName {
    /// Fields the handler sets itself; a metadata key that would collide gets a `META_` prefix
    /// instead of silently overriding the message, priority or source location.
    public static let reserved: Set<String> = [
        "MESSAGE", "MESSAGE_ID", "PRIORITY", "SYSLOG_IDENTIFIER", "SYSLOG_FACILITY", "SYSLOG_PID",
        "CODE_FILE", "CODE_LINE", "CODE_FUNC", "ERRNO", "LOGGER", "ERROR",
    ]

    static let maxLength = 64

    /// The journal field name for a metadata key: camelCase split at word boundaries, upper-cased,
    /// every other character replaced by `_`, runs of `_` collapsed, leading `_` dropped,
    /// a leading digit prefixed with `F_`. A key with nothing usable left becomes `FIELD`.
    public static func sanitize(_ key: String) -> String {
        var out: [UInt8] = []
        var previous: Character?
        for c in key {
            if c.isASCII, c.isUppercase, let p = previous, p.isASCII, p.isLowercase || p.isNumber {
                out.append(UInt8(ascii: "_"))
            }
            if c.isASCII, let a = c.asciiValue, c.isLetter || c.isNumber {
                out.append(c.isLowercase ? a - 32 : a)
            } else if out.last != UInt8(ascii: "_") {
                out.append(UInt8(ascii: "_"))
            }
            previous = c
        }
        while out.first == UInt8(ascii: "_") { out.removeFirst() }
        while out.last == UInt8(ascii: "_") { out.removeLast() }
        if out.isEmpty { return "FIELD" }
        if let first = out.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") {
            out.insert(contentsOf: Array("F_".utf8), at: 0)
        }
        var name = String(decoding: out.prefix(maxLength), as: UTF8.self)
        if reserved.contains(name) { name = String(("META_" + name).prefix(maxLength)) }
        while name.hasSuffix("_") { name.removeLast() }
        return name
    }
}
