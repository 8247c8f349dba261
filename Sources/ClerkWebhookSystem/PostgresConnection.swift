import CLibPQ
import ClerkWebhookCore

#if canImport(Glibc)
    import Glibc
#endif

/// An open libpq connection. `deinit` closes it; every result is cleared on every path.
public final class PostgresConnection {
    private let handle: OpaquePointer

    /// Connects with a libpq URI or key=value string; `nil` leaves everything to libpq's `PG*`
    /// variables. A 5 s connect timeout and `keepalives` apply unless the connection string sets
    /// its own; Prisma's client parameters are dropped and a mistyped password refused
    /// (`ConnectionString.forLibpq`).
    /// The error of a failed connection quotes no piece of the connection string that could hold
    /// the password.
    public init(url given: String?) throws(DatabaseError) {
        let url: String?
        do {
            url = try given.map(ConnectionString.forLibpq)
        } catch {
            throw DatabaseError(sqlState: nil, message: error.message, connectionLost: true)
        }
        // Entries before `dbname` are defaults that the expanded connection string may override.
        var keywords = ["connect_timeout", "fallback_application_name"] + Self.keepalives.map(\.keyword)
        var values = ["5", "clerk-webhook"] + Self.keepalives.map(\.value)
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
            let message = ConnectionString.redacting(
                Self.trimmed(PQerrorMessage(connection)), keeping: Self.sayablePieces(of: connection))
            PQfinish(connection)
            throw DatabaseError(sqlState: nil, message: message, connectionLost: true)
        }
        // libpq prints server notices ("relation already exists, skipping") to stderr by default;
        // they are not errors, and the webhook's stderr carries only its JSON log lines.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
    }

    deinit { PQfinish(handle) }

    /// TCP keepalives on a connection left idle (a warm worker waiting for its request, a
    /// persistent one between requests): the first probe after 60 s idle, then every 10 s, given
    /// up after 3 unanswered. They keep a NAT or firewall on the way to a remote database from
    /// dropping the connection silently, and when one does, the socket reports the error within
    /// 90 s, so the next request connects again (`isIdleAndOpen`) instead of waiting out its
    /// statement timeout on a dead connection. Unix sockets ignore them.
    public static let keepalives = [
        (keyword: "keepalives_idle", value: "60"), (keyword: "keepalives_interval", value: "10"),
        (keyword: "keepalives_count", value: "3"),
    ]

    /// The socket under the connection (for checks such as its TCP options).
    public var socketDescriptor: Int32 { PQsocket(handle) }

    /// What a failed connection's message may quote: the names of libpq's and Prisma's options, the hosts,
    /// ports, user and database the attempt used, with the socket paths made of them. A password
    /// written wrong cannot have landed in one of those: in a URI, `ConnectionString.forLibpq`
    /// refuses it first; in a `key=value` string, libpq refuses the stray word and uses none of them.
    private static func sayablePieces(of connection: OpaquePointer) -> Set<String> {
        var pieces = Set(ConnectionString.prismaParameterNames + ["="])
        var hosts: Set<String> = [PQhost(connection).map { String(cString: $0) } ?? ""]
        var ports: Set<String> = ["5432", PQport(connection).map { String(cString: $0) } ?? ""]
        if let options = PQconninfo(connection) {
            defer { PQconninfoFree(options) }
            var option = options
            while let keyword = option.pointee.keyword {
                let name = String(cString: keyword)
                pieces.insert(name)
                if let value = option.pointee.val.map({ String(cString: $0) }) {
                    let values = value.split(separator: ",").map(String.init)
                    switch name {
                    case "host", "hostaddr": hosts.formUnion(values)
                    case "port": ports.formUnion(values)
                    case "user", "dbname": pieces.insert(value)
                    default: break
                    }
                }
                option += 1
            }
        }
        hosts.remove("")
        ports.remove("")
        pieces.formUnion(hosts)
        pieces.formUnion(ports)
        for host in hosts where host.hasPrefix("/") {
            for port in ports { pieces.insert("\(host)/.s.PGSQL.\(port)") }
        }
        return pieces
    }

    /// Whether the connection is still usable.
    public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Whether an idle connection is still worth a statement: nothing arrived on it since its last
    /// answer. A server that closed it since (a restart, `idle_session_timeout`,
    /// `pg_terminate_backend`, a pooler's client timeout) left its goodbye (a FATAL error) and
    /// end-of-file there; the next statement would fail on it. A connection that listens to no
    /// channel gets nothing else unasked (were it something harmless, connecting again costs one
    /// connect), so whatever arrived means: connect again. One poll with no wait.
    public func isIdleAndOpen() -> Bool {
        guard isHealthy else { return false }
        var ready = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        return poll(&ready, 1, 0) == 0
    }

    /// Runs one statement with text parameters (an unnamed statement: no server-side state)
    /// and returns its rows as text (`nil` = SQL NULL).
    ///
    /// - Parameter timeoutMillis: when set, a statement still running after this long is cancelled
    ///   (the server rolls it back and answers SQLSTATE 57014). Client-side, so it needs no session
    ///   setting and works through PgBouncer/Supavisor in transaction mode.
    @discardableResult
    public func execute(_ statement: PlannedStatement, timeoutMillis: Int? = nil) throws(DatabaseError) -> [[String?]] {
        let sent = withOptionalCStringArray(statement.parameters) { parameters in
            PQsendQueryParams(handle, statement.sql, Int32(statement.parameters.count), nil, parameters, nil, nil, 0)
        }
        guard sent == 1 else { throw lastError() }
        try awaitResult(timeoutMillis: timeoutMillis)

        // One statement: the first result is the answer; drain the rest so the connection is reusable.
        var first: OpaquePointer?
        while let result = PQgetResult(handle) {
            if first == nil { first = result } else { PQclear(result) }
        }
        guard let result = first else { throw lastError() }
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

    // Waits until the whole answer is in, cancelling the statement at the deadline. If the server
    // does not answer the cancel within 1 s either, the connection is given up.
    private func awaitResult(timeoutMillis: Int?) throws(DatabaseError) {
        let start = ProcessEnvironment.monotonicMicros()
        var cancelled = false
        while PQisBusy(handle) == 1 {
            var wait: Int32 = -1
            if let timeoutMillis {
                let elapsed = Int((ProcessEnvironment.monotonicMicros() - start) / 1000)
                if !cancelled && elapsed >= timeoutMillis {
                    cancel()
                    cancelled = true
                }
                wait = Int32(clamping: cancelled ? timeoutMillis + 1000 - elapsed : timeoutMillis - elapsed)
                if cancelled && wait <= 0 {
                    throw DatabaseError(
                        sqlState: "57014", message: "statement timed out and the cancel went unanswered",
                        connectionLost: true)
                }
            }
            var ready = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            let count = poll(&ready, 1, wait)
            if count < 0 && errno != EINTR { throw lastError() }
            if count > 0 && PQconsumeInput(handle) == 0 { throw lastError() }
        }
    }

    private func cancel() {
        guard let token = PQgetCancel(handle) else { return }
        var message = [CChar](repeating: 0, count: 256)
        _ = PQcancel(token, &message, Int32(message.count))
        PQfreeCancel(token)
    }

    private func lastError() -> DatabaseError {
        DatabaseError(sqlState: nil, message: Self.trimmed(PQerrorMessage(handle)), connectionLost: !isHealthy)
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
/// the connection between requests, and drops it when it breaks or the server has closed it since
/// the last request, so that request connects again instead of failing.
public final class PostgresExecutor: StatementExecutor {
    private let url: String?
    private let timeoutMillis: Int?
    private var connection: PostgresConnection?

    /// - Parameter statementTimeoutMillis: cancel a delivery's statement after this long (`nil`: never).
    public init(url: String?, statementTimeoutMillis: Int? = WebhookConfig.defaultStatementTimeoutMillis) {
        self.url = url
        timeoutMillis = statementTimeoutMillis
    }

    /// Connects now, if not connected, and warms the server backend up (`Statements.warmUp`: the
    /// sync function compiled, the caches of the tables it writes built), so the first request pays
    /// for neither; it still plans the function's statements. Failures are ignored here: the
    /// request that needs the connection reports them.
    public func prepare() {
        if connection == nil { connection = try? PostgresConnection(url: url) }
        _ = try? connection?.execute(
            PlannedStatement(sql: Statements.warmUp, parameters: []), timeoutMillis: timeoutMillis)
    }

    /// Closes the connection, if open (libpq tells the server goodbye first).
    public func disconnect() { connection = nil }

    public func execute(_ statement: PlannedStatement) throws(DatabaseError) -> String? {
        let open: PostgresConnection
        if let existing = connection, existing.isIdleAndOpen() {
            open = existing
        } else {
            connection = nil
            open = try PostgresConnection(url: url)
            connection = open
        }
        do {
            return try open.execute(statement, timeoutMillis: timeoutMillis).first?.first ?? nil
        } catch {
            // A read-only session (a standby, or default_transaction_read_only set for maintenance
            // when it connected) stays read-only: the next request connects again, as after a lost one.
            if error.connectionLost || error.sqlState == "25006" { connection = nil }
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
    let duplicated = strings.map { $0.map { string in string.withCString { UnsafePointer(strdup($0)!) } } }
    defer {
        for pointer in duplicated { free(UnsafeMutablePointer(mutating: pointer)) }
    }
    return body(duplicated)
}
