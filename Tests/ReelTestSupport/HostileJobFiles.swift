import Foundation

/// A seeded, reproducible source of hostile spool input: documents for the decoders (truncated,
/// deeply nested, binary, NUL, huge numbers, wrong types, invalid UTF-8, mutations of valid
/// files) and whole files for a spool (those documents, oversized and sparse files, FIFOs,
/// symlinks, directories, under odd names).
///
/// The same seed gives the same sequence, so a failure names the seed that reproduces it.
public struct HostileJobFiles: Sendable {
    /// What a file in `new/` is.
    public enum Contents: Sendable {
        case bytes([UInt8])
        /// A sparse file of this size: huge on paper, nothing on disk.
        case sparse(size: Int)
        case fifo
        case symlink(to: String)
        case directory
    }

    /// What reeld should make of a file.
    public enum Intent: Sendable, Hashable {
        /// A job the queue accepts: it must end in `accepted/`.
        case accepted
        /// Anything else with a valid name: `accepted/` (a mutation that happens to be valid) or `rejected/`.
        case handled
        /// Not a job file name: left in `new/`, untouched.
        case ignored
    }

    public struct File: Sendable {
        /// Raw bytes: some names are deliberately not UTF-8.
        public var name: [UInt8]
        public var contents: Contents
        public var intent: Intent
    }

    public let seed: UInt64
    private var state: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    /// The seed from `REELD_FUZZ_SEED`, else a fresh one.
    public static func seedFromEnvironment() -> UInt64 {
        ProcessInfo.processInfo.environment["REELD_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
    }

    /// An integer from the environment (`REELD_FUZZ_FILES`, `REELD_FUZZ_ITERATIONS`), else `fallback`.
    public static func count(_ variable: String, default fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[variable].flatMap { Int($0) }.map { max(1, $0) } ?? fallback
    }

    // MARK: - Randomness (SplitMix64: small, fast, good enough, and the same on every machine)

    mutating func nextUInt64() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A UUID's text from the seeded sequence.
    mutating func uuid() -> String {
        let a = nextUInt64(), b = nextUInt64()
        let bytes = withUnsafeBytes(of: (a, b)) { Array($0) }
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6] & 0x0F | 0x40, bytes[7], bytes[8] & 0x3F | 0x80,
                           bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15])).uuidString
    }

    mutating func below(_ n: Int) -> Int { Int(nextUInt64() % UInt64(max(n, 1))) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    // MARK: - Documents

    static let kinds = [
        "system.noop", "system.sleep", "workflow.run", "text.storyboard", "image.generate", "video.generate", "audio.speech",
        "audio.music", "audio.sfx", "render.edit", "render.export", "video.upscale", "", "SYSTEM.NOOP",
    ]
    static let fields = ["kind", "args", "user_id", "project_id", "idempotency_key", "priority", "run_at", "max_attempts", "priorty", ""]
    static let argNames = ["seconds", "brief", "scenes", "title", "prompt", "width", "height", "text", "voice", "duration_seconds", "format", "timeline_asset_id", "provider", "model", "role", "scene_id"]

    /// A job file `reeld.submit_job()` accepts (no user or project needed), with a unique key.
    public mutating func acceptedJob(key: String) -> [UInt8] {
        if chance(50) {
            return Array(#"{"kind": "system.noop", "idempotency_key": "\#(key)", "priority": \#(below(1001))}"#.utf8)
        }
        return Array(#"{"kind":"system.sleep","args":{"seconds":\#(below(3))},"idempotency_key":"\#(key)","max_attempts":\#(1 + below(100))}"#.utf8)
    }

    /// A plausible job file of any kind, valid or nearly so.
    public mutating func plausibleJob() -> [UInt8] {
        var fields: [String] = [#""kind": \#(jsonString(pick(Self.kinds)))"#]
        if chance(70) {
            var args: [String] = []
            for _ in 0..<below(4) { args.append("\(jsonString(pick(Self.argNames))): \(scalar())") }
            fields.append(#""args": {\#(args.joined(separator: ", "))}"#)
        }
        if chance(40) { fields.append(#""user_id": \#(chance(80) ? jsonString(uuid().lowercased()) : scalar())"#) }
        if chance(40) { fields.append(#""project_id": \#(chance(80) ? jsonString(uuid()) : scalar())"#) }
        if chance(40) { fields.append(#""idempotency_key": \#(scalar())"#) }
        if chance(30) { fields.append(#""priority": \#(number())"#) }
        if chance(20) { fields.append(#""max_attempts": \#(number())"#) }
        if chance(20) { fields.append(#""run_at": \#(pick([#""2026-01-31T09:30:00Z""#, #""2026-13-45T99:99:99Z""#, #""+275760-09-13T00:00:00Z""#, #""2026-01-31T09:30:00.123456789+14:00""#, #""yesterday""#, "0", "null"]))"#) }
        if chance(5) { fields.append(#"\#(jsonString(pick(Self.fields))): \#(scalar())"#) }
        return Array("{\(fields.joined(separator: ", "))}".utf8)
    }

    /// Any hostile document: one of the families above, or a mutation of one.
    public mutating func document() -> [UInt8] {
        switch below(14) {
        case 0: return truncated(plausibleJob())
        case 1: return deepNesting()
        case 2: return binary()
        case 3: return withNUL()
        case 4: return Array(#"{"kind": "system.sleep", "args": {"seconds": \#(number())}, "priority": \#(number())}"#.utf8)
        case 5: return wrongTypes()
        case 6: return invalidUTF8()
        case 7: return Array(pick(["", " ", "null", "[]", "\"kind\"", "{}", "{\"kind\": \"system.noop\"}{}", "\u{FEFF}{\"kind\": \"system.noop\"}", "{\"kind\": \"system.noop\", \"kind\": \"system.noop\"}", "{\"kind\": \"system.noop\",}", "{'kind': 'system.noop'}", "NaN", "-", "1e", "\"\\ud800\"", "{\"kind\": \"\\ud83c\"}"]).utf8)
        case 8: return manyFields()
        case 9: return longStrings()
        case 10, 11: return mutate(plausibleJob())
        case 12: return timelineDocument()
        default: return plausibleJob()
        }
    }

    /// A timeline: valid (with varied values), wild (any value anywhere), or either mutated.
    public mutating func timelineDocument() -> [UInt8] {
        let text = chance(50) ? validTimeline() : wildTimeline()
        let bytes = Array(text.utf8)
        return chance(30) ? mutate(bytes) : bytes
    }

    mutating func validTimeline() -> String {
        var clips: [String] = []
        for index in 0..<(1 + below(4)) {
            let start = below(3)
            let transition = chance(50) ? #", "transition": {"type": \#(jsonString(pick(["fade", "dissolve", "wipeleft", "circleopen"]))), "duration": 0.\#(1 + below(9))}"# : ""
            clips.append(#"{"id": "s\#(index)", "asset": \#(jsonString(uuid())), "in": \#(start), "out": \#(start + 1 + below(10))\#(transition)}"#)
        }
        let overlay = #"{"id": "t", "text": \#(jsonString(pick(["The Lighthouse", "é🎬", "x"]))), "size": \#(8 + below(100)), "color": \#(jsonString("#ffffff")), "start": 0, "end": \#(1 + below(5))}"#
        let music = #"{"asset": "m", "volume": 0.\#(below(10)), "fade_in": \#(below(3)), "ducking": {"depth_db": \#(below(30)), "attack": 0.2, "release": 0.5}}"#
        let format = pick(["mp4", "webm"])
        return #"{"version": 2, "name": \#(jsonString(pick(["A", "The Lighthouse", ""]))), "video": [\#(clips.joined(separator: ", "))], "overlays": [\#(chance(50) ? overlay : "")], "audio": {"music": \#(chance(50) ? music : "null"), "voice": [], "effects": []}, "output": {"format": "\#(format)", "width": \#(2 * (16 + below(1000))), "height": \#(2 * (16 + below(600))), "fps": \#(pick(["24", "25", "30"]))}}"#
    }

    mutating func wildTimeline() -> String {
        let clip = #"{"id": "s\#(below(3))", "asset": "a", "in": \#(number()), "out": \#(number()), "transition": {"type": \#(jsonString(pick(["fade", "dissolve", "custom", ""]))), "duration": \#(number())}}"#
        let overlay = #"{"id": "t", "text": \#(scalar()), "size": \#(number()), "color": \#(jsonString(pick(["#ffffff", "#0000009", "red", ""]))), "start": \#(number()), "end": \#(number())}"#
        let music = #"{"asset": "m", "volume": \#(number()), "fade_in": \#(number()), "ducking": {"depth_db": \#(number()), "attack": \#(number()), "release": \#(number())}}"#
        let output = #"{"format": \#(jsonString(pick(["mp4", "webm", "gif"]))), "width": \#(number()), "height": \#(number()), "fps": \#(number()), "quality": \#(number()), "loudness": \#(number())}"#
        return #"{"version": \#(pick(["2", "1", "3", "2.0", "\"2\""])), "name": \#(scalar()), "video": [\#(Array(repeating: clip, count: below(4)).joined(separator: ", "))], "overlays": [\#(chance(50) ? overlay : "")], "audio": {"music": \#(chance(50) ? music : "null"), "voice": [], "effects": []}, "output": \#(output)}"#
    }

    mutating func jsonString(_ text: String) -> String {
        var out: [UInt8] = []
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
            case 0..<0x20: out += Array(String(format: "\\u%04x", byte).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    mutating func number() -> String {
        pick([
            "\(below(200))", "-\(below(5))", "\(below(100)).\(below(1000))", "1e999999999", "-1e999999999", "1e-400", "-0", "0.0",
            String(repeating: "9", count: 20 + below(400)), "9223372036854775807", "9223372036854775808", "-9223372036854775809",
            "4.0", "4.5", "1E2", "0x10", "01", ".5", "+1", "Infinity", "\"12\"", "true", "null", "[1]",
        ])
    }

    mutating func scalar() -> String {
        switch below(8) {
        case 0: return number()
        case 1: return jsonString(String(repeating: pick(["x", "é", "🎬", " "]), count: below(80)))
        case 2: return jsonString("")
        case 3: return pick(["true", "false", "null", "[]", "{}", "[[]]", "{\"a\": 1}"])
        case 4: return "\"\\u0000\""
        case 5: return jsonString(uuid())
        default: return jsonString(pick(["fox", "A heron at dawn", "hero", "mp4", "webm", "local", "start_frame"]))
        }
    }

    mutating func truncated(_ bytes: [UInt8]) -> [UInt8] { Array(bytes.prefix(below(bytes.count))) }

    mutating func deepNesting() -> [UInt8] {
        let depth = pick([255, 256, 257, 1000, 100_000])
        let (open, close) = chance(50) ? ("[", "]") : ("{\"a\":", "}")
        let closed = chance(70) ? depth : below(depth)
        return Array(("{\"kind\": \"system.noop\", \"args\": " + String(repeating: open, count: depth) + "1" + String(repeating: close, count: closed) + "}").utf8)
    }

    mutating func binary() -> [UInt8] { (0..<below(4096)).map { _ in UInt8(truncatingIfNeeded: nextUInt64()) } }

    mutating func withNUL() -> [UInt8] {
        pick([
            Array(#"{"kind": "system.noop", "idempotency_key": "a\u0000b"}"#.utf8),
            Array(#"{"kind": "system.noop", "args": {"\u0000": 1}}"#.utf8),
            Array(#"{"kind": "system.noop\#0"}"#.utf8),
            [0] + Array(#"{"kind": "system.noop"}"#.utf8),
            Array(#"{"kind": "system.noop"}"#.utf8) + [0, 0, 0],
            Array(#"{"kind": "workflow.run", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"brief": "x\u0000"}}"#.utf8),
        ])
    }

    mutating func wrongTypes() -> [UInt8] {
        let field = pick(Self.fields)
        let wrong = pick(["1", "\"x\"", "[]", "{}", "true", "null", "1.5", "[\"system.noop\"]"])
        return Array(#"{"kind": "system.noop", \#(jsonString(field)): \#(wrong)}"#.utf8)
    }

    mutating func invalidUTF8() -> [UInt8] {
        let bad: [[UInt8]] = [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xFF], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]]
        return Array(#"{"kind": "system.noop", "idempotency_key": ""#.utf8) + pick(bad) + Array(#""}"#.utf8)
    }

    mutating func manyFields() -> [UInt8] {
        // Mostly small: the large ones cost seconds each in a debug build.
        let n = chance(1) ? pick([10_000, 50_000]) : pick([10, 100, 1000])
        let args = (0..<n).map { "\"k\($0)\": \($0)" }.joined(separator: ",")
        return Array(#"{"kind": "system.noop", "args": {\#(args)}}"#.utf8)
    }

    mutating func longStrings() -> [UInt8] {
        let long = String(repeating: pick(["x", "é", "🎬", "\\n", "\\\""]), count: chance(2) ? pick([70_000, 300_000]) : pick([255, 256, 4000, 4001]))
        return Array(#"{"kind": "workflow.run", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"brief": "\#(long)"}, "idempotency_key": "\#(long)"}"#.utf8)
    }

    /// Random edits: bytes flipped, dropped, doubled, or JSON tokens inserted.
    public mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        let tokens = ["{", "}", "[", "]", "\"", "\\", ",", ":", "null", "1e999", "\\u0000", "\\ud800", "-", "0", " ", "\u{0}", "\u{FEFF}"]
        for _ in 0...below(4) {
            guard !out.isEmpty else { return Array(pick(tokens).utf8) }
            let at = below(out.count)
            switch below(4) {
            case 0: out[at] = UInt8(truncatingIfNeeded: nextUInt64())
            case 1: out.remove(at: at)
            case 2: out.insert(contentsOf: Array(pick(tokens).utf8), at: at)
            default: out.insert(contentsOf: out[at..<min(out.count, at + below(16))], at: at)
            }
        }
        return out
    }

    // MARK: - Spool files

    static let oddNames = [
        "plain.json", "with spaces .json", "ünïcødé-名前.json", "quote\"'.json", "$(touch pwned).json", "-rf.json", "*.json",
        "back\\slash.json", "%s%n.json", "🎬.json", "no-extension", "trailing.", "a.b.c.d.json", "CON", "..json", "x.error.json.bak",
    ]

    /// The `index`th spool file: mostly hostile documents, some jobs the queue accepts, some
    /// oversized, special or badly named files.
    public mutating func file(_ index: Int) -> File {
        let prefix = "\(1_764_000_000 + index).H\(index)."
        var name = Array((prefix + pick(Self.oddNames)).utf8)
        if chance(3) { name += Array(repeating: UInt8(ascii: "n"), count: max(0, 200 - name.count)) }
        if chance(2) {
            // Not job file names: hidden, not UTF-8, control characters, too long, a reason's suffix.
            let ignored: [[UInt8]] = [
                Array(".\(prefix)hidden.json".utf8), Array(prefix.utf8) + [0xFF, 0xFE], Array(prefix.utf8) + [0x09, 0x41],
                Array((prefix + String(repeating: "l", count: 201)).utf8), Array((prefix + "x.error.json").utf8),
            ]
            return File(name: pick(ignored), contents: .bytes(Array(#"{"kind": "system.noop"}"#.utf8)), intent: .ignored)
        }
        switch below(100) {
        case 0..<15: return File(name: name, contents: .bytes(acceptedJob(key: "hostile-\(seed)-\(index)")), intent: .accepted)
        case 15..<17: return File(name: name, contents: .sparse(size: pick([1 << 20 + 1, 1 << 33])), intent: .handled)
        case 17: return File(name: name, contents: .bytes(Array(repeating: UInt8(ascii: " "), count: (1 << 20) + 1 + below(1 << 20))), intent: .handled)
        case 18: return File(name: name, contents: .fifo, intent: .handled)
        case 19: return File(name: name, contents: .symlink(to: pick(["/etc/passwd", "../accepted", "/dev/zero", "nowhere"])), intent: .handled)
        case 20: return File(name: name, contents: .directory, intent: .handled)
        default: return File(name: name, contents: .bytes(document()), intent: .handled)
        }
    }
}
