/// What the binaries do to `DATABASE_URL` before libpq reads it, and to libpq's message when a
/// connection fails before anyone reads that: the connection string holds the database password,
/// and libpq quotes pieces of the string in its errors.
public enum ConnectionString {
    /// Query parameters that Prisma's PostgreSQL URLs carry for Prisma's own client and pool
    /// (Supabase's Prisma guide writes `…:6543/postgres?pgbouncer=true&connection_limit=1`).
    /// libpq refuses a parameter it does not know; one self-contained statement per delivery on one
    /// connection needs none of them.
    /// (An array: a `Set` would cost the per-request binary a conformance lookup at its start.)
    static let prismaClientParameters = [
        "pgbouncer", "connection_limit", "pool_timeout", "statement_cache_size", "socket_timeout",
    ]

    /// The names of Prisma's own URL parameters, dropped or not: libpq's error about one that is left
    /// (`schema=app`, `sslaccept`) may name it.
    public static let prismaParameterNames = prismaClientParameters + ["schema", "sslaccept", "sslidentity"]

    /// `url` as libpq should read it: a `postgres://` or `postgresql://` URI loses Prisma's client
    /// parameters and `schema=public` (Prisma's default search path; the sync functions name the
    /// schema of every table). Anything else, a `key=value` string included, is returned as is.
    ///
    /// - Throws: when the URI cannot mean what its writer meant: a password written without
    ///   percent-encoding its `@`, `/` or `%`, of which libpq would take a piece for the host, port
    ///   or database name, or refuse a `%` escape, and quote that piece in its error (so also a port
    ///   that is not a number). The message names the character, never the value.
    public static func forLibpq(_ url: String) throws(ConfigurationError) -> String {
        let bytes = Array(url.utf8)
        guard let parts = URIParts(bytes) else {
            if let problem = notAConnectionString(bytes) { throw ConfigurationError(problem) }
            return url
        }
        if let problem = malformation(of: bytes, parts) {
            throw ConfigurationError("the connection string is not a valid URI: " + problem)
        }
        guard let query = parts.queryStart else { return url }
        let parameters = bytes[(query + 1)...].split(separator: ascii("&"), omittingEmptySubsequences: false)
        let kept = parameters.filter { !isPrismaClientParameter($0) }
        guard kept.count < parameters.count else { return url }
        var result = Array(bytes[..<query])
        if !kept.isEmpty {
            result.append(ascii("?"))
            result += kept.joined(separator: [ascii("&")])
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Why a string that is not a `postgres(ql)://` URI is no connection string either, or `nil`.
    /// libpq would take one without an `=` for a database name on the default local socket, and
    /// fail there with a message about that socket, far from the mistake. Names the scheme at most.
    private static func notAConnectionString(_ bytes: [UInt8]) -> String? {
        // What comes before the first = or space: a scheme there means a URI was meant.
        let head = Array(bytes.prefix { $0 != ascii("=") && $0 != ascii(" ") })
        let separator = Array("://".utf8)
        let schemeEnd = head.indices.first { head[$0...].starts(with: separator) }
        let blank = bytes.allSatisfy { $0 == ascii(" ") || $0 == ascii("\t") || $0 == ascii("\n") }
        // key=value settings, libpq's other form, and a blank string (all defaults) are fine.
        if schemeEnd == nil && (bytes.contains(ascii("=")) || blank) { return nil }
        let lowered = String(decoding: head, as: UTF8.self).lowercased()
        let lead = "the connection string is neither a postgresql:// URI nor key=value settings"
        if lowered.hasPrefix("https://") || lowered.hasPrefix("http://") {
            return lead + ": an http(s):// address is the Supabase project's API URL, not its database;"
                + " use the database connection string (postgresql://…) from the dashboard's Connect dialog"
        }
        if lowered.hasPrefix("jdbc:") { return lead + ": drop the jdbc: prefix of a JDBC URL" }
        if lowered.hasPrefix("postgresql://") || lowered.hasPrefix("postgres://") {
            return lead + ": libpq recognizes the scheme in lower case only; write postgresql://"
        }
        if let colon = schemeEnd, colon > 0, head[..<colon].allSatisfy(isSchemeCharacter) {
            let name = String(decoding: head[..<colon], as: UTF8.self).lowercased()
            return lead + ": it starts with \(name)://, and a URI must start with postgresql:// or postgres://"
        }
        return lead
    }

    private static func isPrismaClientParameter(_ parameter: ArraySlice<UInt8>) -> Bool {
        let name = parameter.prefix { $0 != ascii("=") }
        let value = parameter.dropFirst(name.count + 1)
        let key = String(decoding: name, as: UTF8.self)
        return prismaClientParameters.contains(key) || (key == "schema" && value.elementsEqual("public".utf8))
    }

    private static func malformation(of bytes: [UInt8], _ parts: URIParts) -> String? {
        var index = parts.start
        while let percent = bytes[index...].firstIndex(of: ascii("%")) {
            guard percent + 2 < bytes.count, isHexDigit(bytes[percent + 1]), isHexDigit(bytes[percent + 2]) else {
                return "a % that does not start a %XX escape: write a % in the password as %25"
            }
            index = percent + 3
        }
        // libpq ends the user name and password at the first @, and looks for it only before the
        // first /; up to the query, neither host, port nor database name holds an @.
        let rest = bytes[parts.hostStart..<(parts.queryStart ?? bytes.count)]
        if rest.contains(ascii("@")) {
            return parts.hostStart == parts.start
                ? "an @ after a /: write a / in the user name or password as %2F"
                : "an @ after the one that ends the password: write an @ in the password as %40"
        }
        // Hosts with their ports, separated by commas, end at the first / or ?. A port that is not
        // a number is most likely a password cut short by a / (`user:pass?x=1/word@host`).
        let hosts = bytes[parts.hostStart...].prefix { $0 != ascii("/") && $0 != ascii("?") }
        for var address in hosts.split(separator: ascii(","), omittingEmptySubsequences: false) {
            if address.first == ascii("["), let close = address.firstIndex(of: ascii("]")) {
                address = address[(close + 1)...]
            }
            if let colon = address.firstIndex(of: ascii(":")),
                !address[(colon + 1)...].allSatisfy({ $0 >= ascii("0") && $0 <= ascii("9") })
            {
                return "a port that is not a number: write a / in the user name or password as %2F"
            }
        }
        return nil
    }

    /// libpq's `message` about a connection that failed, with every quoted piece replaced by `…`
    /// unless `keeping` holds it: libpq quotes pieces of the connection string (a host name, a bad
    /// escape, a word it took for an option), and a password written wrong can be any of them.
    /// A piece ends at a quote followed by a space, a comma or the message's end, so a quote inside
    /// it does not end it early.
    public static func redacting(_ message: String, keeping: Set<String>) -> String {
        let bytes = Array(message.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        func closesPiece(_ position: Int) -> Bool {
            guard bytes[position] == ascii("\"") else { return false }
            let next = position + 1 < bytes.count ? bytes[position + 1] : ascii(" ")  // the end counts as a space
            return next == ascii(" ") || next == ascii(",")
        }
        var index = 0
        while index < bytes.count {
            guard bytes[index] == ascii("\"") else {
                out.append(bytes[index])
                index += 1
                continue
            }
            var end = index + 1
            while end < bytes.count && !closesPiece(end) { end += 1 }
            let piece = bytes[(index + 1)..<end]
            out.append(ascii("\""))
            out += keeping.contains(String(decoding: piece, as: UTF8.self)) ? Array(piece) : Array("…".utf8)
            out.append(ascii("\""))
            index = end + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Where libpq splits a connection URI (`fe-connect.c`, `conninfo_uri_parse_options`).
private struct URIParts {
    /// After `postgresql://` or `postgres://`.
    var start: Int
    /// After the `@` that ends the user name and password, or `start` when there is none.
    var hostStart: Int
    /// The `?` that starts the parameters.
    var queryStart: Int?

    init?(_ bytes: [UInt8]) {
        guard let prefix = ["postgresql://", "postgres://"].first(where: { bytes.starts(with: $0.utf8) }) else {
            return nil
        }
        start = prefix.utf8.count
        let designator = bytes[start...].firstIndex { $0 == ascii("@") || $0 == ascii("/") }
        hostStart = designator.flatMap { bytes[$0] == ascii("@") ? $0 + 1 : nil } ?? start
        queryStart = bytes[hostStart...].firstIndex(of: ascii("?"))
    }
}

private func ascii(_ scalar: Unicode.Scalar) -> UInt8 { UInt8(ascii: scalar) }

private func isSchemeCharacter(_ byte: UInt8) -> Bool {
    (byte >= ascii("a") && byte <= ascii("z")) || (byte >= ascii("A") && byte <= ascii("Z"))
        || (byte >= ascii("0") && byte <= ascii("9")) || byte == ascii("+") || byte == ascii("-") || byte == ascii(".")
}

private func isHexDigit(_ byte: UInt8) -> Bool {
    (byte >= ascii("0") && byte <= ascii("9")) || (byte >= ascii("a") && byte <= ascii("f"))
        || (byte >= ascii("A") && byte <= ascii("F"))
}
