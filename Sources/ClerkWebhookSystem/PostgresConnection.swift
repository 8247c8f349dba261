import CLibPQ
import ClerkWebhookCore

#if canImport(Glibc)
    import Glibc
#endif

/// An open libpq connection. `deinit` closes it; every result is cleared on every path.
public final class PostgresConnection {
    private let handle: OpaquePointer

    /// Connects with a libpq URI or key=value string; `nil` leaves everything to libpq's `PG*`
    /// variables. A 5 s connect timeout applies unless the connection string sets its own.
    public init(url: String?) throws(DatabaseError) {
        // Entries before `dbname` are defaults that the expanded connection string may override.
        var keywords = ["connect_timeout", "fallback_application_name"]
        var values = ["5", "clerk-webhook"]
        if let url {
            keywords.append("dbname")
            values.append(url)
        }
        let connection = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw DatabaseError(sqlState: nil, message: "libpq could not allocate a connection", connectionLost: true)
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw DatabaseError(sqlState: nil, message: message, connectionLost: true)
        }
        // libpq prints server notices ("relation already exists, skipping") to stderr by default;
        // they are not errors, and the webhook's stderr carries only its JSON log lines.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
    }

    deinit { PQfinish(handle) }

    /// Whether the connection is still usable.
    public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Runs one statement with text parameters (an unnamed statement: no server-side state)
    /// and returns its rows as text (`nil` = SQL NULL).
    @discardableResult
    public func execute(_ statement: PlannedStatement) throws(DatabaseError) -> [[String?]] {
        let result = withOptionalCStringArray(statement.parameters) { parameters in
            PQexecParams(handle, statement.sql, Int32(statement.parameters.count), nil, parameters, nil, nil, 0)
        }
        guard let result else {
            throw DatabaseError(
                sqlState: nil, message: Self.trimmed(PQerrorMessage(handle)), connectionLost: !isHealthy)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
            var rows: [[String?]] = []
            let columns = PQnfields(result)
            for row in 0..<PQntuples(result) {
                rows.append(
                    (0..<columns).map { column in
                        PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                    })
            }
            return rows
        default:
            let state = clerk_pq_sqlstate(result).map { String(cString: $0) }
            let message =
                clerk_pq_primary_message(result).map { String(cString: $0) } ?? Self.trimmed(PQerrorMessage(handle))
            throw DatabaseError(sqlState: state, message: message, connectionLost: !isHealthy)
        }
    }

    /// Runs SQL text that may hold several statements (simple query protocol, no parameters), such
    /// as a migration file. Only for operator tooling: deliveries always use `execute(_:)`.
    public func run(script: String) throws(DatabaseError) {
        guard let result = PQexec(handle, script) else {
            throw DatabaseError(
                sqlState: nil, message: Self.trimmed(PQerrorMessage(handle)), connectionLost: !isHealthy)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return
        default:
            let state = clerk_pq_sqlstate(result).map { String(cString: $0) }
            throw DatabaseError(
                sqlState: state, message: Self.trimmed(PQerrorMessage(handle)), connectionLost: !isHealthy)
        }
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown libpq error" }
        var text = String(cString: message)
        while text.last == "\n" || text.last == " " { text.removeLast() }
        return text.replacingNewlines()
    }
}

/// The executor the webhook uses: connects on first use (or ahead of time with `prepare()`), keeps
/// the connection between requests, and drops it when it breaks so the next request reconnects.
public final class PostgresExecutor: StatementExecutor {
    private let url: String?
    private var connection: PostgresConnection?

    public init(url: String?) { self.url = url }

    /// Connects now, if not connected, and warms the server backend up (it loads and compiles the
    /// sync function), so the first request pays for neither. Failures are ignored here: the
    /// request that needs the connection reports them.
    public func prepare() {
        if connection == nil { connection = try? PostgresConnection(url: url) }
        _ = try? connection?.execute(PlannedStatement(sql: Statements.warmUp, parameters: []))
    }

    public func execute(_ statement: PlannedStatement) throws(DatabaseError) -> String? {
        let open: PostgresConnection
        if let existing = connection, existing.isHealthy {
            open = existing
        } else {
            connection = nil
            open = try PostgresConnection(url: url)
            connection = open
        }
        do {
            return try open.execute(statement).first?.first ?? nil
        } catch {
            if error.connectionLost { connection = nil }
            throw error
        }
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\t" ? " " : $0 })
    }
}

private func withCStringArray<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    withOptionalCStringArray(strings.map { Optional($0) }) { pointers in
        body(pointers + [nil])
    }
}

private func withOptionalCStringArray<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let duplicated = strings.map { $0.map { UnsafePointer(strdup($0)!) } }
    defer {
        for pointer in duplicated { free(UnsafeMutablePointer(mutating: pointer)) }
    }
    return body(duplicated)
}
