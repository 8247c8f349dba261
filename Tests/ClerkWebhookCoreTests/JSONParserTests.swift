import ClerkWebhookCore
import Testing

@Suite struct JSONParserTests {
    @Test("parses values, escapes and exact integers")
    func parses() throws {
        let value = try JSONParser.parse(
            Array(
                #" {"a":[1,-2.5e3,true,false,null],"s":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","n":1716883500000} "#.utf8))
        #expect(value["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
        #expect(value["s"] == .string("\"\\/\u{8}\u{c}\n\r\té😀"))
        #expect(value["n"]?.int64 == 1_716_883_500_000)
    }

    @Test("the last duplicate key wins, as in JSON.parse")
    func duplicateKeys() throws {
        #expect(try JSONParser.parse(Array(#"{"a":1,"a":2}"#.utf8))["a"] == .number("2"))
    }

    @Test(
        "rejects what RFC 8259 rejects",
        arguments: [
            "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", ".5", "1e", "tru", "nul", "\"abc", "\"\\x\"",
            "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\u{01}b\"", "{a:1}", "'a'", "[1 2]", "{\"a\" 1}", "1 2",
        ])
    func rejects(text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test("rejects invalid UTF-8 inside strings")
    func invalidUTF8() {
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONError.self) { try JSONParser.parse([0xEF, 0xBB, 0xBF, 0x7B, 0x7D]) }
    }

    @Test("nesting is bounded")
    func depth() throws {
        let limit = JSONParser.maximumDepth
        _ = try JSONParser.parse(
            Array((String(repeating: "[", count: limit) + String(repeating: "]", count: limit)).utf8))
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError.self) { try JSONParser.parse(Array(deep.utf8)) }
    }
}
