import ReelCore
import Testing

@testable import ReelConfig

@Suite struct TOMLParserTests {
    func parse(_ text: String) throws -> JSONValue { try TOMLParser.parse(text).value }

    func error(_ text: String) -> TOMLError? {
        do {
            _ = try TOMLParser.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesTablesKeysAndScalars() throws {
        let value = try parse(
            """
            # comment
            title = "reeld"   # trailing comment
            "quoted key" = 'C:\\no\\escapes'
            [a.b]
            int = -1_000
            zero = 0
            float = 3.5e2
            small = 1e-3
            yes = true
            no = false
            dotted.inner = "x"
            """
        )
        #expect(value["title"] == "reeld")
        #expect(value["quoted key"] == "C:\\no\\escapes")
        let b = value["a"]?["b"]
        #expect(b?["int"] == .int(-1000))
        #expect(b?["zero"] == .int(0))
        #expect(b?["float"] == .double(350))
        #expect(b?["small"] == .double(0.001))
        #expect(b?["yes"] == true)
        #expect(b?["no"] == false)
        #expect(b?["dotted"]?["inner"] == "x")
    }

    @Test func decodesBasicStringEscapes() throws {
        let value = try parse(#"s = "tab\there \"q\" back\\slash \u00e9 \U0001F3AC nl\n""#)
        #expect(value["s"] == .string("tab\there \"q\" back\\slash é 🎬 nl\n"))
    }

    @Test func parsesMultiLineArraysAndInlineTables() throws {
        let value = try parse(
            """
            uids = [
              1000,  # first
              1001,
            ]
            empty = []
            nested = [[1, 2], ["a"]]
            point = { x = 1, y.z = "deep" }
            none = {}
            tables = [{ a = 1 }, { a = 2 }]
            """
        )
        #expect(value["uids"] == [1000, 1001])
        #expect(value["empty"] == [])
        #expect(value["nested"] == [[1, 2], ["a"]])
        #expect(value["point"] == ["x": 1, "y": ["z": "deep"]])
        #expect(value["none"] == [:])
        #expect(value["tables"] == [["a": 1], ["a": 2]])
    }

    @Test func acceptsCRLFAndAByteOrderMark() throws {
        #expect(try parse("\u{FEFF}a = 1\r\n[t]\r\nb = 2\r\n") == ["a": 1, "t": ["b": 2]])
    }

    @Test func implicitParentTableMayBeDefinedLater() throws {
        #expect(try parse("[a.b]\nx = 1\n[a]\ny = 2") == ["a": ["b": ["x": 1], "y": 2]])
    }

    @Test func rejectsDuplicateKeysWithBothPositions() {
        let e = error("[queue]\nworkers = 1\nworkers = 2")
        #expect(e?.position == TOMLPosition(line: 3, column: 1))
        #expect(e?.message == "duplicate key 'queue.workers' (first defined at 2:1)")
    }

    @Test func rejectsTablesDefinedTwice() {
        #expect(error("[a]\n[b]\n[a]")?.position == TOMLPosition(line: 3, column: 2))
        #expect(error("[a]\nb.c = 1\n[a.b]")?.message == "table [a.b] is already defined by dotted keys")
        #expect(error("a = 1\n[a]")?.message == "'a' is already a value; it cannot also be a table")
        #expect(error("a = { b = 1 }\n[a]")?.message == "'a' is an inline table; it cannot be extended")
        #expect(error("a = { b = 1 }\na.c = 2")?.message == "'a' is an inline table; it cannot be extended")
        #expect(error("[a.b]\n[a]\nb.c = 1")?.message == "table 'a.b' has its own [header]; add the key in that section")
    }

    @Test func rejectsUnsupportedFeaturesByName() {
        #expect(error("[[jobs]]")?.message == "arrays of tables ([[…]]) are not supported")
        #expect(error("d = 1979-05-27")?.message.contains("dates and times are not supported") == true)
        #expect(error("t = 07:32:00")?.message.contains("dates and times are not supported") == true)
        #expect(error("s = \"\"\"multi\"\"\"")?.message == "multi-line strings (\"\"\") are not supported")
        #expect(error("h = 0xff")?.message.contains("only decimal integers") == true)
        #expect(error("f = inf")?.message.contains("inf and nan are not supported") == true)
    }

    @Test func rejectsMalformedInputWithLineAndColumn() {
        #expect(error("a = 01")?.position == TOMLPosition(line: 1, column: 5))
        #expect(error("a = 1__0") != nil)
        #expect(error("a = _1") != nil)
        #expect(error("a = 1.") != nil)
        #expect(error("a = .5") != nil)
        #expect(error("a = 99999999999999999999")?.message == "integer 99999999999999999999 is out of range")
        #expect(error("\n\n  a = \"open")?.position == TOMLPosition(line: 3, column: 12))
        #expect(error("a = \"bad \\q\"")?.position == TOMLPosition(line: 1, column: 10))
        #expect(error("a = 1 b = 2")?.message == "expected the end of the line, found 'b'")
        #expect(error("a = [1 2]")?.message == "expected ',' or ']' in the array, found '2'")
        #expect(error("a = { b = 1, }")?.message == "trailing comma in an inline table")
        #expect(error("a = { b = 1,\n c = 2 }")?.message == "inline tables must be on one line")
        #expect(error("= 1")?.message == "expected a key, found '='")
        #expect(error("a =")?.message == "expected a value, found end of file")
        #expect(error("a = yes")?.position == TOMLPosition(line: 1, column: 5))
        #expect(error("a = 1\rb = 2")?.message == "carriage return not followed by a line feed")
    }

    @Test func recordsWhereEachKeyWasDefined() throws {
        let doc = try TOMLParser.parse("[queue]\n  workers = 3\nx = { y = 1 }")
        #expect(doc.position(of: ["queue"]) == TOMLPosition(line: 1, column: 1))
        #expect(doc.position(of: ["queue", "workers"]) == TOMLPosition(line: 2, column: 3))
        #expect(doc.position(of: ["queue", "x", "y"]) == TOMLPosition(line: 3, column: 7))
    }
}
