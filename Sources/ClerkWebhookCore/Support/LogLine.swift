/// Severity of a log line, least to most severe; `off` writes nothing.
public enum LogLevel: String, Comparable, Sendable {
    case debug, info, warn, error, off

    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warn: 2
        case .error: 3
        case .off: 4
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

/// One structured log line: a constant message plus dot-keyed fields, rendered as one JSON object.
/// Callers put only identifiers and outcomes in fields — never secrets, signatures, bodies, emails or names.
public struct LogLine: Sendable {
    public var level: LogLevel
    public var message: String
    public var fields: [(key: String, value: Value)]

    /// A field value: text or a number.
    public enum Value: Sendable {
        case text(String)
        case integer(Int64)
    }

    public init(level: LogLevel, message: String, fields: [(key: String, value: Value)] = []) {
        self.level = level
        self.message = message
        self.fields = fields
    }

    /// Renders the line as JSON with an ISO 8601 UTC time, ending in a newline.
    public func rendered(unixMillis: Int64) -> String {
        // Built as UTF-8 bytes and made a String once: every delivery writes one of these.
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"time":""#.utf8)
        Self.appendISO8601(unixMillis: unixMillis, to: &out)
        out.append(contentsOf: #"","level":"#.utf8)
        Self.appendQuoted(level.rawValue, to: &out)
        out.append(contentsOf: #","msg":"#.utf8)
        Self.appendQuoted(message, to: &out)
        for (key, value) in fields {
            out.append(UInt8(ascii: ","))
            Self.appendQuoted(key, to: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case .text(let text): Self.appendQuoted(text, to: &out)
            case .integer(let number): out.append(contentsOf: String(number).utf8)
            }
        }
        out.append(contentsOf: "}\n".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON string literal for `text`.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        appendQuoted(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        // Native strings are contiguous UTF-8: bytes that need no escape are copied in runs.
        text.withUTF8 { bytes in
            var runStart = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                appendEscaped(byte, to: &out)
                runStart = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The JSON escape for a quote, a backslash or a control character.
    private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
        case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
        case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
        case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
        case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
        default:
            // Other control characters as \u00XX; every other byte (UTF-8 included) is copied as it is.
            out.append(contentsOf: #"\u00"#.utf8)
            out.append(contentsOf: lowercaseHex([byte]).utf8)
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a Unix time in milliseconds (proleptic Gregorian, UTC).
    public static func iso8601(unixMillis: Int64) -> String {
        var out: [UInt8] = []
        appendISO8601(unixMillis: unixMillis, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendISO8601(unixMillis: Int64, to out: inout [UInt8]) {
        let millis = Int(unixMillis % 1000)
        let seconds = Int(unixMillis / 1000)
        let days = seconds / 86_400
        let secondOfDay = seconds % 86_400
        // Civil-from-days (H. Hinnant), valid for all dates after 1970.
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        appendDigits(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 3600 / 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(millis, width: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// `value` (non-negative) in decimal, zero-padded to at least `width` digits.
    private static func appendDigits(_ value: Int, width: Int, to out: inout [UInt8]) {
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(width, count)))
        var position = out.count - 1
        rest = value
        repeat {
            out[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            position -= 1
        } while rest > 0
    }
}
