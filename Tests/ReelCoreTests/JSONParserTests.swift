import ReelCore
import Testing

@Suite struct JSONParserTests {
    func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue { try JSONValue(parsing: Array(text.utf8)) }

    func failure(_ text: String) -> JSONSyntaxError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesEveryKindOfValue() throws {
        let value = try parse(#" {"n": null, "t": true, "f": false, "i": -42, "d": 2.5e3, "s": "x", "a": [1, [], {}], "o": {"k": "v"}} "#)
        #expect(value == [
            "n": nil, "t": true, "f": false, "i": -42, "d": 2500.0, "s": "x", "a": [1, [], [:]], "o": ["k": "v"],
        ])
    }

    @Test func integersStayIntegersUntilTheyOverflow() throws {
        #expect(try parse("9223372036854775807") == .int(Int64.max))
        #expect(try parse("-9223372036854775808") == .int(Int64.min))
        #expect(try parse("9223372036854775808") == .double(9223372036854775808))
        #expect(try parse("1.0") == .double(1))
        #expect(try parse("-0") == .int(0))
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83c\udfac""#) == .string("a\"b\\c/d\u{08}\u{0C}\n\r\té🎬"))
        #expect(try parse(#""plain ünïcode 🎞""#) == .string("plain ünïcode 🎞"))
    }

    @Test func malformedTextIsRefusedWithItsPosition() {
        #expect(failure("{\"kind\": \"x\",\n  \"args\": }")?.description == "line 2, column 11: unexpected character '}', expected a value")
        #expect(failure(#"{"a": 1"#)?.message == "unexpected end of input in an object")
        #expect(failure(#"{"a": 1} x"#)?.message == "unexpected text after the JSON value")
        #expect(failure("")?.message == "unexpected end of input, expected a value")
        #expect(failure("[1,]") != nil)
        #expect(failure("{'a': 1}") != nil)
        #expect(failure("tru") != nil)
    }

    @Test func numbersFollowTheGrammar() {
        for text in ["01", "+1", ".5", "1.", "1e", "-", "0x10", "1e999", "NaN", "Infinity"] {
            #expect(failure(text) != nil, "\(text) should be refused")
        }
    }

    @Test func stringsMustBeCleanUTF8WithEscapedControls() {
        #expect(failure("\"a\nb\"")?.message.hasPrefix("unescaped control character") == true)
        #expect(failure(#""\ud83c""#)?.message.hasPrefix("lone high surrogate") == true)
        #expect(failure(#""\udfac""#)?.message.hasPrefix("lone low surrogate") == true)
        #expect(failure(#""\q""#)?.message == "invalid escape \\'q'")
        var bytes = Array(#""ab"#.utf8)
        bytes += [0xFF, UInt8(ascii: "\"")]
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: bytes) }
    }

    @Test func duplicateKeysAreRefusedRatherThanGuessed() {
        let error = failure(#"{"kind": "a", "kind": "b"}"#)
        #expect(error?.message == #"duplicate key "kind""#)
        #expect(error?.column == 15)
    }

    @Test func nestingIsLimited() throws {
        let ok = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        #expect(throws: Never.self) { try parse(ok) }
        let deep = String(repeating: "[", count: 257) + String(repeating: "]", count: 257)
        #expect(failure(deep)?.message == "nested deeper than 256 levels")
    }

    @Test func byteOrderMarkIsTolerated() throws {
        #expect(try JSONValue(parsing: [0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == [:])
    }

    @Test func textIsCompactSortedAndRoundTrips() throws {
        let value: JSONValue = ["b": [1, 2.5, "q\"\\\n\u{01}é/"], "a": nil, "c": ["z": true, "y": false]]
        let text = value.jsonText
        #expect(text == #"{"a":null,"b":[1,2.5,"q\"\\\n\u0001é/"],"c":{"y":false,"z":true}}"#)
        #expect(try parse(text) == value)
    }

    @Test func nonFiniteDoublesAreWrittenAsNull() {
        #expect(JSONValue.array([.double(.nan), .double(.infinity)]).jsonText == "[null,null]")
    }

    /// JSON compares keys by code points, Swift by canonical equivalence: "é" (U+00E9) and
    /// "e\u0301" are two keys to JSON that would share one slot here, so the document is refused
    /// with both spelled out, not taken as one key.
    @Test func keysThatDifferOnlyInUnicodeFormAreRefusedNamingBoth() {
        let text = #"{"\u00e9": 1, "e\u0301": 2}"#
        #expect { try parse(text) } throws: { error in
            "\(error)".contains("U+00E9") && "\(error)".contains("U+0065 U+0301")
        }
        #expect { try parse(#"{"a": 1, "a": 2}"#) } throws: { error in "\(error)".contains("duplicate key") }
    }
}
