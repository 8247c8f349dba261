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
        var out = #"{"time":""# + Self.iso8601(unixMillis: unixMillis) + #"","level":"# + Self.quoted(level.rawValue)
        out += #","msg":"# + Self.quoted(message)
        for (key, value) in fields {
            out += "," + Self.quoted(key) + ":"
            switch value {
            case .text(let text): out += Self.quoted(text)
            case .integer(let number): out += String(number)
            }
        }
        return out + "}\n"
    }

    /// A JSON string literal for `text`.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a Unix time in milliseconds (proleptic Gregorian, UTC).
    public static func iso8601(unixMillis: Int64) -> String {
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
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2) + ":"
            + pad(secondOfDay % 3600 / 60, 2) + ":" + pad(secondOfDay % 60, 2) + "." + pad(millis, 3) + "Z"
    }
}
