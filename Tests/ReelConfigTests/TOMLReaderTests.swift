import Foundation
import Testing

@testable import ReelConfig

/// What TOMLKit reads for reeld, and how reeld.toml refuses what it has no setting for.
@Suite struct TOMLReaderTests {
    func read(_ text: String) throws -> [String: ConfigValue] { try TOMLReader.read(text, source: "test.toml").root }

    func readError(_ text: String) -> ConfigError? {
        do {
            _ = try read(text)
            return nil
        } catch {
            return error as? ConfigError
        }
    }

    func configError(_ text: String) -> ConfigError? {
        do {
            _ = try ReelConfig.parse(text, source: "test.toml")
            return nil
        } catch {
            return error
        }
    }

    // MARK: TOML 1.0, all of it

    @Test func readsDatesAndTimes() throws {
        let root = try read(
            """
            offset = 1979-05-27T07:32:00Z
            local = 1979-05-27T07:32:00.999
            day = 1979-05-27
            clock = 07:32:00
            """
        )
        #expect(root == ["offset": .dateTime, "local": .dateTime, "day": .date, "clock": .time])
    }

    @Test func aDateWhereASettingTakesANumberIsRefusedByKey() {
        let e = configError("[queue]\nworkers = 1979-05-27T07:32:00Z")
        #expect(e?.description == "test.toml:2:1: queue.workers: expected an integer, found a date-time")
        #expect(configError("[queue]\nretention_days = 1979-05-27")?.message == "expected an integer, found a date")
        #expect(configError("[log]\nlevel = 07:32:00")?.message == "expected a string, found a time")
        #expect(configError("[queue]\nrelease = 2026-12-07")?.message.hasPrefix("unknown key; known in [queue]:") == true)
    }

    @Test func readsMultiLineStrings() throws {
        let root = try read(
            #"""
            basic = """
            one \
              two"""
            literal = '''
            C:\raw\'''
            quotes = """a""""
            """#
        )
        #expect(root["basic"] == .string("one two"))
        #expect(root["literal"] == .string("C:\\raw\\"))
        #expect(root["quotes"] == .string("a\""))
    }

    @Test func multiLineStringsLoadAsPaths() throws {
        let config = try ReelConfig.parse(
            #"""
            [storage]
            root = """
            /srv/reeld/storage"""
            [render]
            cache_dir = '''/srv/reeld/render-cache'''
            """#
        )
        #expect(config.storage.root == "/srv/reeld/storage")
        #expect(config.render.cacheDirectory == "/srv/reeld/render-cache")
    }

    @Test func readsArraysOfTables() throws {
        let root = try read("[[stage]]\nname = \"a\"\n[[stage]]\nname = \"b\"")
        #expect(root["stage"] == .array([.table(["name": .string("a")]), .table(["name": .string("b")])]))
    }

    @Test func anArrayOfTablesWhereReeldHasATableIsRefusedByKey() {
        let e = configError("[[queue]]\nworkers = 2")
        #expect(e?.description == "test.toml:1:1: queue: expected a table, found an array")
        #expect(configError("[[stages]]\nname = \"a\"")?.message.hasPrefix("unknown key; known at the top level: node, database") == true)
    }

    @Test func dottedKeysAndInlineTablesLoad() throws {
        let config = try ReelConfig.parse(
            """
            queue.workers = 3
            queue.claimers = 2
            log = { level = "debug" }
            [tiers.free]
            concurrent.video = 1
            per_minute = { video = 2, render = "unlimited" }
            """
        )
        #expect(config.queue.workers == 3 && config.queue.claimers == 2)
        #expect(config.log.level == .debug)
        #expect(config.tiers[.free]?.classes[.video] == .init(concurrent: 1, perMinute: 2))
        #expect(config.tiers[.free]?.classes[.render]?.perMinute == nil)
    }

    @Test func aDottedKeyReeldDoesNotHaveIsRefusedByItsPath() {
        #expect(configError("queue.wrokers = 3")?.key == "queue.wrokers")
        #expect(configError("[tiers.free]\nconcurrent.vidoe = 1")?.key == "tiers.free.concurrent.vidoe")
    }

    @Test func otherIntegerFormsAndByteOrderMarkAndCRLF() throws {
        let config = try ReelConfig.parse("\u{FEFF}[queue]\r\nworkers = 0x10\r\nclaim_batch = 1_000\r\n")
        #expect(config.queue.workers == 16 && config.queue.claimBatch == 1000)
    }

    // MARK: Errors

    @Test func aSyntaxErrorHasLineAndColumn() {
        let e = readError("[queue]\nworkers = = 3")
        #expect(e?.position == TOMLPosition(line: 2, column: 11))
        #expect(e?.key == nil)
        #expect(e?.description.hasPrefix("test.toml:2:11: Error while parsing") == true)
        #expect(readError("[a]\nx = 1\n[a]")?.position == TOMLPosition(line: 3, column: 1))
        #expect(readError("\n\n  a = \"open")?.position?.line == 3)
    }

    // MARK: Hostile input

    @Test func deeplyNestedArraysStopAtTheLibrarysLimitOf256Levels() {
        let e = readError("a = " + String(repeating: "[", count: 100_000))
        #expect(e?.description == "test.toml:1:261: Error while parsing value: exceeded maximum nested value depth of 256 (TOML_MAX_NESTED_VALUES)")
    }

    @Test func deeplyNestedInlineTablesStopAtTheSameLimit() {
        let e = readError("a = " + String(repeating: "{ b = ", count: 100_000))
        #expect(e?.message.contains("exceeded maximum nested value depth of 256") == true)
        // `{{` is no inline table at all: toml++ stops at the second brace.
        #expect(readError("a = " + String(repeating: "{", count: 100_000))?.position == TOMLPosition(line: 1, column: 6))
    }

    @Test func deeplyDottedKeysAreRefusedBeforeParsing() {
        // toml++ has no limit for these and overflows the stack walking the tables they make.
        let parts = Array(repeating: "a", count: 100_000)
        let e = readError(parts.joined(separator: ".") + " = 1")
        #expect(e?.description == "test.toml:1:128: keys are nested more than 64 levels deep (reeld's deepest setting has 6)")
        #expect(readError("[" + parts.joined(separator: ".") + "]")?.message == "keys are nested more than 64 levels deep (reeld's deepest setting has 6)")
        #expect(readError("[[" + parts.joined(separator: ".") + "]]")?.message == "keys are nested more than 64 levels deep (reeld's deepest setting has 6)")
        #expect(readError(parts.prefix(64).joined(separator: ".") + " = 1") == nil)
        #expect(readError(parts.prefix(65).joined(separator: ".") + " = 1") != nil)
        // Depth adds up across a header, a dotted key and the inline tables within its value.
        let third = Array(repeating: "a", count: 22).joined(separator: ".")
        #expect(readError("[\(third)]\n\(third) = { \(third) = 1 }")?.position?.line == 2)
        #expect(readError("[\(third)]\n\(third) = 1") == nil)
    }

    @Test func dotsInStringsCommentsAndNumbersDoNotCountAsNesting() throws {
        let dots = String(repeating: ".", count: 1000)
        let floats = (0..<1000).map { "\($0).5" }.joined(separator: ", ")
        let root = try read(
            """
            # \(dots)
            a = "\(dots)"   # \(dots)
            b = '\(dots)'
            c = \"""
            \(dots) "" \(dots)\"""
            d = [\(floats)]
            e = [
              { x = 1.5, y = 2.5 },  # \(dots)
              { x = 3.5 },
            ]
            f = 1.5
            """
        )
        #expect(root["a"] == .string(dots))
        #expect(root["f"] == .double(1.5))
    }

    @Test func aNULIsRefusedBecauseTOMLKitWouldCutTheTextThere() throws {
        // TOMLKit hands strings over as C strings: "k\u0000z" would become "k".
        let e = readError("[storage]\nroot = \"/srv\\u0000/x\"")
        #expect(e?.position == TOMLPosition(line: 2, column: 13))
        #expect(e?.message.hasPrefix("the escape for NUL (\\u0000) is not allowed") == true)
        #expect(readError("\"k\\U00000000z\" = 1")?.position == TOMLPosition(line: 1, column: 3))
        #expect(readError("a = 1\u{0}\nb = 2")?.message == "a NUL character is not allowed in the file")
        #expect(try read("a = '\\u0000'") == ["a": .string("\\u0000")], "a literal string has no escapes")
    }

    @Test func keysThatDifferOnlyInUnicodeFormAreRefused() {
        let e = readError("[queue]\n\"\u{E9}\" = 1\n\"e\u{301}\" = 2")
        #expect(e?.key?.hasPrefix("queue.") == true)
        #expect(e?.position?.line == 2, "toml++ orders keys bytewise, so the error is about U+00E9, written on line 2")
        #expect(e?.message.contains("(U+00E9)") == true && e?.message.contains("(U+0065 U+0301)") == true)
        #expect(e?.message.hasSuffix("are different TOML keys that read the same; keep one") == true)
    }

    @Test func reeldNamesMatchScalarByScalar() throws {
        // U+212A KELVIN SIGN is canonically equivalent to "K", so Swift's == calls them equal.
        #expect("\u{212A}ey" == "Key")
        let locator = KeyLocator(bytes: [], statementStarts: [])
        var table = ConfigTable(path: ["t"], entries: ["\u{212A}ey": .int(5)], source: "test.toml", locator: locator)
        #expect(try table.int("Key", default: 1, in: 0...10) == 1)
        #expect(throws: ConfigError.self) { try table.finish() }
    }

    // MARK: Where a setting was written

    @Test func aSettingsErrorPointsAtTheStatementThatWroteIt() {
        let text = """
            # reeld, with "[queue]" in a comment
            [intake]
            allowed_uids = [
              1000,  # ]
            ]
            [queue]
            description = \"""
            [queue]
            workers = 1\"""
              lease_seconds = "30"
            """
        // lease_seconds is read before the unknown key, and the string's lines are no statements.
        #expect(configError(text)?.description == "test.toml:10:3: queue.lease_seconds: expected an integer, found a string")
        #expect(configError(text.replacingOccurrences(of: "\"30\"", with: "30"))?.position == TOMLPosition(line: 7, column: 1))
        #expect(configError("[tiers.free]\nconcurrent.video = 1\nconcurrent.vidoe = 2")?.description.hasPrefix("test.toml:3:1: tiers.free.concurrent.vidoe: unknown key") == true)
        #expect(configError("queue.workers = 1\nqueue.claimers = 0")?.position == TOMLPosition(line: 2, column: 1))
        #expect(configError("a = [\n  1,\n]\n[providers.local]\nenabled = false")?.position?.line == 4, "providers.default is unset: its table")
    }

    @Test func aFileOverOneMebibyteIsRefusedUnread() throws {
        let big = String(repeating: "# padding\n", count: TOMLReader.maxBytes / 10 + 1)
        #expect(readError(big)?.message.hasPrefix("the file has more than 1048576 bytes") == true)

        let dir = FileManager.default.temporaryDirectory.appending(path: "reeld-config-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appending(path: "reeld.toml").path
        try (big + big).write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try ReelConfig.load(path: path, environment: [:])
        } throws: { error in
            (error as? ConfigError)?.description == "\(path): the file has more than 1048576 bytes (1 MiB), far more than any configuration needs"
        }
    }
}
