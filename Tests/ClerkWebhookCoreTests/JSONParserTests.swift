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
    func invalidUTF8() throws {
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONError.self) { try JSONParser.parse([0xEF, 0xBB, 0xBF, 0x7B, 0x7D]) }
        // Before and after an escape: the escaped string's bytes are checked too.
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xFF, 0x5C, 0x6E, 0x22]) }
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0x5C, 0x6E, 0xC3, 0x22]) }
        #expect(try JSONParser.parse([0x22, 0xC3, 0xA9, 0x5C, 0x6E, 0xC3, 0xA9, 0x22]) == .string("é\né"))
    }

    /// The parser scans plain string content eight bytes at a time; this holds it, at every offset
    /// and length up to 24 bytes, to what RFC 8259 says of one byte (or escape) of each kind.
    @Test("one special byte anywhere in a string of up to 24 bytes")
    func stringRuns() {
        // What is inserted, and the text it stands for (nil: the document is invalid).
        let cases: [([UInt8], String?)] = [
            (Array(#"\""#.utf8), "\""), (Array(#"\\"#.utf8), "\\"), (Array(#"\n"#.utf8), "\n"), ([0x00], nil),
            ([0x01], nil), ([0x1F], nil), ([0x20], " "), ([0x21], "!"), ([0x23], "#"), ([0x5B], "["), ([0x5D], "]"),
            ([0x7F], "\u{7F}"), ([0x80], nil), ([0xC3], nil), ([0xFF], nil), (Array("é".utf8), "é"),
            (Array("😀".utf8), "😀"),
        ]
        for length in 0...24 {
            for position in 0...length {
                let prefix = String(repeating: "a", count: position)
                let suffix = String(repeating: "b", count: length - position)
                for (inserted, meaning) in cases {
                    let document = [0x22] + Array(prefix.utf8) + inserted + Array(suffix.utf8) + [0x22]
                    let expected = meaning.map { JSONValue.string(prefix + $0 + suffix) }
                    #expect((try? JSONParser.parse(document)) == expected, "\(document)")
                    // The same string skipped, as the value of a member the shape leaves out.
                    let wrapped = Array(#"{"x":"#.utf8) + document + Array(#","k":1}"#.utf8)
                    let kept = try? JSONParser.parse(wrapped, keeping: .members([("k", .all)]))
                    #expect(kept == expected.map { _ in .object(["k": .number("1")]) }, "\(wrapped)")
                }
            }
        }
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

/// `parse(_:keeping:)` skips what a shape leaves out; these check that it accepts and rejects
/// exactly what a whole parse does, and returns the whole parse's value cut to the shape.
@Suite struct JSONShapeTests {
    static let shapes: [JSONShape] = [
        ClerkEvent.shape, .all, .members([]), .elements(.members([("a", .all)])),
        .members([("a", .elements(.members([("b", .all)]))), ("c", .members([("d", .all)]))]),
    ]

    /// Runs both parses of `bytes` for every shape; returns how many documents parsed whole.
    @discardableResult
    static func expectSameAsWholeParse(_ bytes: [UInt8], _ comment: Comment) -> Int {
        var whole: JSONValue?
        do { whole = try JSONParser.parse(bytes) } catch {}
        for shape in shapes {
            var cut: JSONValue?
            do { cut = try JSONParser.parse(bytes, keeping: shape) } catch {}
            #expect(cut == whole?.projected(to: shape), comment)
        }
        return whole == nil ? 0 : 1
    }

    @Test("keeps only the shape's members and elements")
    func keepsTheShape() throws {
        let value = try JSONParser.parse(
            Array(#"{"a":[{"b":1,"x":[2]},3,{"y":{}}],"c":{"d":"e","f":"g"},"z":"\u00e9"}"#.utf8),
            keeping: JSONShapeTests.shapes[4])
        #expect(
            value
                == .object([
                    "a": .array([.object(["b": .number("1")]), .number("3"), .object([:])]),
                    "c": .object(["d": .string("e")]),
                ]))
    }

    @Test(
        "agrees with a whole parse on tricky documents",
        arguments: [
            #"{"a":1,"a":[{"b":2}]}"#, #"{"\u0061":[{"b":1}]}"#, #"{"a\u0000":1,"c":{"d":2}}"#,
            #"{"c":{"d":1,"d":2,"\u0064":3}}"#, #"{"x":"\ud800"}"#, #"{"x":"\q"}"#, #"{"x":[1,}"#, #"{"x":{"y"}}"#,
            #"{"x":01}"#, #"{"x":-}"#, #"{"x":1.e5}"#, #"{"x":tru}"#, #"{"x":nul,"a":[]}"#, #"{"x":"a"#,
            #"{"x":{"y":1,}}"#, #"{"x":[1 2]}"#, #"{"x" "y"}"#, #"{"a":"not an array","c":[1]}"#, "{\"x\":\"\t\"}",
            #"{"é":1,"a":[]}"#, #"{"data":{"id":"u","email_addresses":[{"id":"e","email_address":"x","k":[{}]}]}}"#,
            "[" + String(repeating: #"{"a":"#, count: 70) + "1" + String(repeating: "}", count: 70) + "]",
            #"{"a":[{"b":"#, "{\"x\":\"\u{7F}\u{80}\"}",
        ])
    func tricky(document: String) {
        Self.expectSameAsWholeParse(Array(document.utf8), "\(document)")
    }

    @Test("agrees with a whole parse on invalid UTF-8 anywhere")
    func invalidUTF8() throws {
        for bytes: [UInt8] in [
            [0x7B, 0x22, 0x78, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D],  // {"x":"\xC3("}
            [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D],  // {"\xFF":1}
            [0x7B, 0x22, 0x78, 0x22, 0x3A, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x7D],  // an encoded surrogate
        ] {
            Self.expectSameAsWholeParse(bytes, "\(bytes)")
        }
    }

    /// Every Clerk payload fixture, every prefix of it and every byte of it replaced by a character
    /// that matters to JSON: both parses accept and reject the same documents.
    @Test("agrees with a whole parse on every cut and corruption of the fixtures")
    func fixtureMutations() throws {
        var documents = 0
        var parsed = 0
        for name in ["user.created.json", "user.updated.json", "user.deleted.json", "session.created.json"] {
            let bytes = try fixture(name)
            for end in 0...bytes.count {
                parsed += Self.expectSameAsWholeParse(Array(bytes[..<end]), "\(name) cut at \(end)")
                documents += 1
            }
            for position in bytes.indices {
                for replacement: UInt8 in [0x22, 0x5C, 0x7B, 0x5D, 0x2C, 0xFF, 0x00, 0x31] {
                    var mutated = bytes
                    mutated[position] = replacement
                    parsed += Self.expectSameAsWholeParse(mutated, "\(name) byte \(position) -> \(replacement)")
                    documents += 1
                }
            }
        }
        print("JSON shape differential: \(documents) documents, \(parsed) valid, \(documents - parsed) invalid")
        #expect(parsed > 0 && parsed < documents)
    }
}
