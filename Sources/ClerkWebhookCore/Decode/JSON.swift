/// A parsed JSON value. Numbers keep their source text so integers such as Clerk's
/// millisecond timestamps are read exactly.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member `key` when this is an object, otherwise `nil`.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The value as an exact 64-bit integer, when it is an integral number literal.
    public var int64: Int64? {
        guard case .number(let text) = self else { return nil }
        return Int64(text)
    }
}

/// Which parts of a document `JSONParser.parse(_:keeping:)` builds. The rest is still checked —
/// the document must be valid JSON all the same — but skipped without making strings or
/// containers, which is most of a Clerk payload.
// A struct over arrays rather than an indirect enum: a shape kept in a global then holds plain
// pointers, which leak checkers (valgrind, LeakSanitizer) can follow at exit.
public struct JSONShape: Sendable {
    fileprivate enum Kind: Sendable {
        case all, members, elements
    }

    fileprivate var kind: Kind
    fileprivate var memberShapes: [(name: String, shape: JSONShape)] = []
    /// The member names as UTF-8, made once with the shape: matching a document's bytes against
    /// them then costs no String work per request.
    fileprivate var memberNames: [[UInt8]] = []
    fileprivate var elementShape: [JSONShape] = []

    /// The whole value.
    public static let all = JSONShape(kind: .all)

    /// For an object: only these members (plain ASCII names), each to its own shape; the last
    /// duplicate wins, as always. A value that is not an object is built whole.
    public static func members(_ members: [(name: String, shape: JSONShape)]) -> JSONShape {
        JSONShape(kind: .members, memberShapes: members, memberNames: members.map { Array($0.name.utf8) })
    }

    /// For an array: every element to this shape. A value that is not an array is built whole.
    public static func elements(_ shape: JSONShape) -> JSONShape {
        JSONShape(kind: .elements, elementShape: [shape])
    }
}

extension JSONValue {
    /// What `JSONParser.parse(_:keeping:)` returns for a document that parses whole to `self`.
    public func projected(to shape: JSONShape) -> JSONValue {
        switch (shape.kind, self) {
        case (.members, .object(let members)):
            var kept: [String: JSONValue] = [:]
            for (name, memberShape) in shape.memberShapes {
                if let value = members[name] { kept[name] = value.projected(to: memberShape) }
            }
            return .object(kept)
        case (.elements, .array(let elements)):
            return .array(elements.map { $0.projected(to: shape.elementShape[0]) })
        default:
            return self
        }
    }
}

/// Why a body is not JSON. Carries a byte offset and a reason, never the content itself.
public struct JSONError: Error, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A small, strict RFC 8259 parser over raw bytes. It rejects invalid UTF-8, lone surrogates,
/// control characters in strings, trailing content and nesting deeper than `maximumDepth`.
public struct JSONParser {
    /// Nesting limit; Clerk payloads nest a handful of levels.
    public static let maximumDepth = 64

    // Valid only inside `parse(_:keeping:)`, which lends the document's storage.
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Parses one complete JSON document.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        try parse(bytes, keeping: .all)
    }

    /// Checks one complete JSON document as `parse(_:)` does and builds only `shape` of it.
    public static func parse(_ bytes: [UInt8], keeping shape: JSONShape) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONError) in
            var parser = JSONParser(buffer)
            parser.skipWhitespace()
            let value = try parser.parseValue(shape)
            parser.skipWhitespace()
            guard parser.index == buffer.count else { throw parser.error("unexpected content after the value") }
            return value
        }
    }

    private func error(_ reason: String) -> JSONError { JSONError(offset: index, reason: reason) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(_ shape: JSONShape = .all) throws(JSONError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(shape)
        case UInt8(ascii: "["): return try parseArray(shape)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of input") }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            throw error("invalid literal")
        }
        index += count
    }

    /// Walks the object or array that starts at `index`: its brackets, commas and the nesting
    /// limit. `element` reads each member (name, colon and value) or element.
    private mutating func walkContainer(
        closing close: UInt8, _ element: (inout JSONParser) throws(JSONError) -> Void
    ) throws(JSONError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == close {
            index += 1
            depth -= 1
            return
        }
        while true {
            try element(&self)
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
            } else if bytes[index] == close {
                index += 1
                depth -= 1
                return
            } else {
                throw error(close == UInt8(ascii: "}") ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        }
    }

    /// Checks that a member name starts at `index`.
    private func expectMemberName() throws(JSONError) {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
    }

    /// Steps over the colon after a member name and the whitespace around it.
    private mutating func expectColon() throws(JSONError) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
        index += 1
        skipWhitespace()
    }

    /// An object: every member, or with a `.members` shape only the members it names (the rest
    /// checked and skipped).
    private mutating func parseObject(_ shape: JSONShape) throws(JSONError) -> JSONValue {
        var members: [String: JSONValue] = [:]
        members.reserveCapacity(shape.memberShapes.count)
        try walkContainer(closing: UInt8(ascii: "}")) { parser throws(JSONError) in
            try parser.expectMemberName()
            let member = shape.kind == .members ? try parser.memberName(in: shape) : (try parser.parseString(), .all)
            try parser.expectColon()
            if let member {
                members[member.name] = try parser.parseValue(member.shape)  // Like JSON.parse: the last duplicate wins.
            } else {
                try parser.skipValue()
            }
        }
        return .object(members)
    }

    /// Reads a member name and returns the member of `shape` it names, or nil when it names none.
    private mutating func memberName(in shape: JSONShape) throws(JSONError) -> (name: String, shape: JSONShape)? {
        let start = index
        if skipPlainString() {
            // Printable ASCII only: compared byte for byte, no String made.
            let raw = UnsafeBufferPointer(rebasing: bytes[start + 1..<index - 1])
            for (position, name) in shape.memberNames.enumerated() where name.count == raw.count {
                if name.withUnsafeBufferPointer({ $0.elementsEqual(raw) }) { return shape.memberShapes[position] }
            }
            return nil
        }
        // Escapes or other Unicode: compare as the dictionary of a whole parse would.
        let name = try parseString()
        return shape.memberShapes.first { $0.name == name }
    }

    /// Checks one value exactly as `parseValue` does, without building it.
    private mutating func skipValue() throws(JSONError) {
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            try walkContainer(closing: UInt8(ascii: "}")) { parser throws(JSONError) in
                try parser.expectMemberName()
                try parser.skipString()
                try parser.expectColon()
                try parser.skipValue()
            }
        case UInt8(ascii: "["):
            try walkContainer(closing: UInt8(ascii: "]")) { parser throws(JSONError) in try parser.skipValue() }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        default: _ = try parseValue()  // A literal, or the same error.
        }
    }

    /// Checks one string exactly as `parseString` does. Plain ASCII is only scanned; a string with
    /// escapes or other bytes goes through `parseString` itself.
    private mutating func skipString() throws(JSONError) {
        if !skipPlainString() { _ = try parseString() }
    }

    /// Steps over the string at `index` when it is plain (printable ASCII, no escape) and says
    /// whether it was; otherwise leaves `index` at its opening quote.
    private mutating func skipPlainString() -> Bool {
        let end = plainRunEnd(from: index + 1)  // after the opening quote
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return false }
        index = end + 1
        return true
    }

    /// Where the plain run of string content from `position` ends: the first quote, backslash,
    /// control character or non-ASCII byte, or the end of the input. Eight bytes per step.
    private func plainRunEnd(from position: Int) -> Int {
        var position = position
        if let base = UnsafeRawPointer(bytes.baseAddress) {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let quotes = ones &* UInt64(UInt8(ascii: "\""))
            let backslashes = ones &* UInt64(UInt8(ascii: "\\"))
            while position + 8 <= bytes.count {
                // The first byte in the lowest bits, whatever the machine's byte order.
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                let quote = word ^ quotes
                let backslash = word ^ backslashes
                // Each term sets a byte's high bit where that byte is special: a zero byte of
                // `quote` or `backslash`, a byte below 0x20 (borrowing), or a byte of 0x80 and above.
                // A borrow can also flag a byte after one that is special, never the first one.
                let special =
                    ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | (word &- ones &* 0x20) | word
                let flags = special & (ones &* 0x80)
                if flags != 0 { return position + flags.trailingZeroBitCount / 8 }
                position += 8
            }
        }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { break }
            position += 1
        }
        return position
    }

    /// An array: every element whole, or with an `.elements` shape each to that shape.
    private mutating func parseArray(_ shape: JSONShape) throws(JSONError) -> JSONValue {
        let elementShape = shape.kind == .elements ? shape.elementShape[0] : .all
        var elements: [JSONValue] = []
        try walkContainer(closing: UInt8(ascii: "]")) { parser throws(JSONError) in
            elements.append(try parser.parseValue(elementShape))
        }
        return .array(elements)
    }

    private mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = index
        try scanNumber()
        return .number(String(decoding: bytes[start..<index], as: UTF8.self))
    }

    private mutating func scanNumber() throws(JSONError) {
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
            skipDigits()
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    private mutating func parseString() throws(JSONError) -> String {
        index += 1  // opening quote
        var runStart = index
        var ascii = true
        // Filled only once an escape turns up (each escape adds at least one byte): most strings
        // have none and are made straight from the document's bytes.
        var unescaped: [UInt8] = []
        while true {
            index = plainRunEnd(from: index)
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw error("control character in string") }
            if byte == UInt8(ascii: "\\") {
                unescaped.append(contentsOf: bytes[runStart..<index])
                try parseEscape(into: &unescaped)
                runStart = index
                continue
            }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        let run = bytes[runStart..<index]
        index += 1  // closing quote
        let string: String?
        if unescaped.isEmpty {
            string = ascii ? String(decoding: run, as: UTF8.self) : String(validating: run, as: UTF8.self)
        } else {
            unescaped.append(contentsOf: run)
            string = String(validating: unescaped, as: UTF8.self)
        }
        guard let string else { throw error("string is not valid UTF-8") }
        return string
    }

    private mutating func parseEscape(into output: inout [UInt8]) throws(JSONError) {
        index += 1
        guard index < bytes.count else { throw error("unterminated escape") }
        let escaped = bytes[index]
        index += 1
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escaped)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            var code = try parseHex4()
            if (0xD800...0xDBFF).contains(code) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else { throw error("unpaired surrogate") }
                index += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate") }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(code) {
                throw error("unpaired surrogate")
            }
            // Valid by construction: surrogates were paired or rejected above.
            output.append(contentsOf: Array(String(Character(Unicode.Scalar(code)!)).utf8))
        default:
            throw error("invalid escape")
        }
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}
