import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

/// Settings that scripts/test.sh exports after starting PostgreSQL and nginx. Missing settings
/// fail the tests: a database that did not start is a failure, never a skip.
enum TestEnvironment {
    struct Missing: Error, CustomStringConvertible {
        var name: String
        var description: String {
            "\(name) is not set: run the tests with scripts/test.sh, which starts PostgreSQL and nginx"
        }
    }

    static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(name: name) }
        return value
    }

    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let signer = try! SignatureVerifier(secrets: secret, variable: "test", crypto: OpenSSLCrypto())

    /// Database `name` over the Unix socket, as `role` (the owner of everything by default).
    static func databaseURL(_ name: String, role: String = "postgres") throws -> String {
        "postgresql:///\(name)?host=\(try value("CLERK_WEBHOOK_TEST_PGHOST"))&port=\(try value("CLERK_WEBHOOK_TEST_PGPORT"))"
            + "&user=\(role)"
    }

    /// The same database through PgBouncer in transaction mode (Supabase's pooler on port 6543 is
    /// one too): any database name, as `role`.
    static func pooledDatabaseURL(_ name: String, role: String = "postgres") throws -> String {
        "postgresql:///\(name)?host=\(try value("CLERK_WEBHOOK_TEST_POOLER_HOST"))&port=6432&user=\(role)"
    }

    /// The same database over TCP with TLS, the certificate verified (`sslmode=verify-full`), as a
    /// Supabase connection string would reach it; `login` is the URL's user part (`role:password`).
    static func tlsDatabaseURL(_ name: String, login: String = "postgres", rootCertificate: String? = nil) throws
        -> String
    {
        let certificate = try rootCertificate ?? value("CLERK_WEBHOOK_TEST_TLS_ROOT_CERT")
        return "postgresql://\(login)@127.0.0.1:\(try value("CLERK_WEBHOOK_TEST_PGPORT"))/\(name)"
            + "?sslmode=verify-full&sslrootcert=\(certificate)"
    }
}

/// What curl got: the status (0 when no answer came), the response headers and the body.
struct HTTPReply {
    var status: Int
    var headers: String
    var body: String
}

/// The webhook's retryable answer, whether the webhook or nginx on its behalf gave it: 503,
/// Retry-After, a JSON body.
func expectUnavailable(_ reply: HTTPReply, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let headers = reply.headers.lowercased()
    #expect(reply.status == 503, "\(reply.status) \(reply.body)", sourceLocation: sourceLocation)
    #expect(headers.contains("retry-after: 5"), "\(reply.headers)", sourceLocation: sourceLocation)
    #expect(headers.contains("content-type: application/json"), "\(reply.headers)", sourceLocation: sourceLocation)
    #expect(
        reply.body.trimmingCharacters(in: .whitespacesAndNewlines)
            == #"{"error":"Temporarily unavailable, retry later"}"#, sourceLocation: sourceLocation)
}

/// Runs curl with `arguments` against `url`, sending `body` as JSON when given.
func curl(_ arguments: [String], body: [UInt8]? = nil, url: String) throws -> HTTPReply {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("curl-" + uniqueToken())
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var all =
        [
            "-sS", "-o", directory.appendingPathComponent("body").path, "-D",
            directory.appendingPathComponent("headers").path,
            "-w", "%{http_code}",
        ] + arguments
    if let body {
        let file = directory.appendingPathComponent("request")
        try Data(body).write(to: file)
        all += ["-H", "Content-Type: application/json", "--data-binary", "@" + file.path]
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = all + [url]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let status = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return HTTPReply(
        status: Int(status) ?? -1,
        headers: (try? String(contentsOf: directory.appendingPathComponent("headers"), encoding: .utf8)) ?? "",
        body: (try? String(contentsOf: directory.appendingPathComponent("body"), encoding: .utf8)) ?? "")
}

/// POSTs `body` to `url` signed now with the test secret, with svix (or Standard Webhooks) header
/// names; `tamper` changes the body after signing; `extra` are more curl arguments.
func signedPost(
    _ body: [UInt8], url: String, id: String = "msg_" + uniqueToken(), prefix: String = "svix", tamper: Bool = false,
    extra: [String] = []
) throws -> HTTPReply {
    let now = Int64(Date().timeIntervalSince1970)
    let signature = TestEnvironment.signer.signature(id: id, timestamp: now, body: body)
    let sent = tamper ? body + Array(" ".utf8) : body
    let headers = ["\(prefix)-id: \(id)", "\(prefix)-timestamp: \(now)", "\(prefix)-signature: \(signature)"]
    return try curl(["-X", "POST"] + headers.flatMap { ["-H", $0] } + extra, body: sent, url: url)
}

/// Polls `condition` every 50 ms until it holds or `seconds` pass.
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return condition()
}

/// A unique token for ids and emails, so tests sharing a database never collide.
func uniqueToken() -> String {
    UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16).description
}

/// A fresh database cloned from the migrated template, one per test.
struct TestDatabase {
    let url: String
    let connection: PostgresConnection

    /// - Parameter migrated: clone the migrated template (default) or start from an empty database.
    init(migrated: Bool = true) throws {
        let template = migrated ? try TestEnvironment.value("CLERK_WEBHOOK_TEST_TEMPLATE") : "template0"
        let admin = try PostgresConnection(url: TestEnvironment.databaseURL("postgres"))
        let name = "test_" + uniqueToken()
        try admin.execute(PlannedStatement(sql: #"CREATE DATABASE "\#(name)" TEMPLATE "\#(template)""#, parameters: []))
        url = try TestDatabase.url(name)
        connection = try PostgresConnection(url: url)
    }

    static func url(_ name: String) throws -> String { try TestEnvironment.databaseURL(name) }

    /// The database's name, from its `postgresql:///NAME?...` URL.
    var name: String { String(url.dropFirst("postgresql:///".count).prefix { $0 != "?" }) }

    /// Where deliveries' connections go: straight to PostgreSQL, or through PgBouncer in
    /// transaction mode (8 server connections shared by all clients, as Supabase's pooler shares).
    static let routes = ["direct", "pgbouncer"]

    /// This database's URL for one of `routes`.
    func url(via route: String) throws -> String {
        route == "direct" ? url : try TestEnvironment.pooledDatabaseURL(name)
    }

    /// Another session that locks `clerkID`'s row until the caller sends it ROLLBACK.
    func holdRowLock(_ clerkID: String) throws -> PostgresConnection {
        let holder = try PostgresConnection(url: url)
        try holder.execute(PlannedStatement(sql: "BEGIN", parameters: []))
        try holder.execute(
            PlannedStatement(sql: "SELECT 1 FROM public.users WHERE clerk_id = $1 FOR UPDATE", parameters: [clerkID]))
        return holder
    }

    /// How many sessions of this database wait for a lock now (a delivery behind `holdRowLock`).
    func lockWaiters() throws -> String? {
        try query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).first?.first ?? nil
    }

    @discardableResult
    func query(_ sql: String, _ parameters: String?...) throws -> [[String?]] {
        try connection.execute(PlannedStatement(sql: sql, parameters: parameters))
    }

    /// The synced columns of one user, or `nil` when there is no row.
    func user(_ clerkID: String) throws -> UserRow? {
        try query(
            """
            SELECT email, name, role::text, deleted_at IS NOT NULL, clerk_updated_at_ms::text, "updatedAt" IS NOT NULL
            FROM public.users WHERE clerk_id = $1
            """, clerkID
        ).first.map { row in
            UserRow(
                email: row[0], name: row[1], role: row[2] ?? "", deleted: row[3] == "t",
                clerkUpdatedAt: row[4].flatMap { Int64($0) })
        }
    }

    /// Every column of every users row and every ledger entry: equal dumps mean nothing was written.
    func dump() throws -> [[String?]] {
        try query("SELECT row_to_json(u)::text FROM public.users u ORDER BY id")
            + query("SELECT row_to_json(d)::text FROM clerk_webhook.deliveries d ORDER BY svix_id")
    }

    /// The outcome the ledger recorded for a svix id, or `nil` when it holds no such id.
    func ledgerOutcome(_ svixID: String) throws -> String? {
        try query("SELECT outcome FROM clerk_webhook.deliveries WHERE svix_id = $1", svixID).first?.first ?? nil
    }
}

struct UserRow: Equatable, CustomStringConvertible {
    var email: String?
    var name: String?
    var role = "user"
    var deleted = false
    var clerkUpdatedAt: Int64?

    var description: String {
        "email=\(email ?? "NULL") name=\(name ?? "NULL") role=\(role) deleted=\(deleted) at=\(clerkUpdatedAt ?? -1)"
    }
}

/// Clerk-shaped payloads built for a test.
enum ClerkPayload {
    static func user(
        _ type: String = "user.created", id: String, email: String?, first: String? = nil, last: String? = nil,
        updatedAt: Int64
    ) -> [UInt8] {
        let data = userObject(id: id, email: email, first: first, last: last, updatedAt: updatedAt)
        return Array(
            #"{"data":\#(data),"instance_id":"ins_123","object":"event","timestamp":\#(updatedAt),"type":"\#(type)"}"#
                .utf8)
    }

    /// A Clerk `User` object, as webhooks carry it in `data` and the Backend API returns it.
    static func userObject(
        id: String, email: String?, first: String? = nil, last: String? = nil, updatedAt: Int64,
        createdAt: Int64 = 1_716_883_200_000
    ) -> String {
        func json(_ text: String?) -> String { text.map { "\"\($0)\"" } ?? "null" }
        let addresses =
            email.map {
                #"[{"id":"idn_\#(id)","object":"email_address","email_address":"\#($0)","linked_to":[],"verification":{"status":"verified","strategy":"email_code"}}]"#
            } ?? "[]"
        let primary = email == nil ? "null" : #""idn_\#(id)""#
        return """
            {"id":"\(id)","object":"user","email_addresses":\(addresses),"primary_email_address_id":\(primary),\
            "first_name":\(json(first)),"last_name":\(json(last)),"created_at":\(createdAt),"updated_at":\(updatedAt),\
            "phone_numbers":[],"public_metadata":{},"username":null}
            """
    }

    static func deleted(id: String) -> [UInt8] {
        Array(
            #"{"data":{"deleted":true,"id":"\#(id)","object":"user"},"instance_id":"ins_123","object":"event","timestamp":1716883600000,"type":"user.deleted"}"#
                .utf8)
    }
}

/// Sends deliveries through the real pipeline (verify, decode, plan) and a real libpq executor.
struct Deliverer {
    let handler: WebhookHandler
    let executor: PostgresExecutor

    init(databaseURL: String) throws {
        handler = WebhookHandler(verifier: .success(TestEnvironment.signer))
        executor = PostgresExecutor(url: databaseURL)
    }

    @discardableResult
    func deliver(_ body: [UInt8], id: String = "msg_" + uniqueToken()) -> WebhookResponse {
        let now = Int64(Date().timeIntervalSince1970)
        let headers = WebhookHeaders(
            id: id, timestamp: String(now),
            signature: TestEnvironment.signer.signature(id: id, timestamp: now, body: body))
        return handler.handle(
            .success(WebhookRequest(method: "POST", headers: headers, body: body)), now: now, executor: executor
        )
        .response
    }
}

/// A finished child process: its exit status and what it printed.
struct ProcessRun {
    var stdout: String
    var stderr: String
    var status: Int32

    /// Runs `executable` to completion with exactly `environment`, feeding `stdin`.
    init(_ executable: String, _ arguments: [String] = [], environment: [String: String], stdin: [UInt8] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        // A child may exit without reading all of stdin (a 413 is refused unread): that must be
        // EPIPE here, not a SIGPIPE that kills the test runner.
        signal(SIGPIPE, SIG_IGN)
        try process.run()
        try? input.fileHandleForWriting.write(contentsOf: Data(stdin))
        try? input.fileHandleForWriting.close()
        // Drain stderr concurrently so a chatty child cannot block on a full pipe.
        let errorData = LockedData()
        let drain = Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        drain.start()
        stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        while !drain.isFinished { Thread.sleep(forTimeInterval: 0.001) }
        stderr = String(decoding: errorData.get(), as: UTF8.self)
        status = process.terminationStatus
    }
}

/// A value shared between threads.
final class Locked<Value: Sendable>: @unchecked Sendable {  // Every access holds `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func set(_ newValue: Value) { lock.withLock { value = newValue } }
    func get() -> Value { lock.withLock { value } }
    fileprivate func modify<Result>(_ change: (inout Value) -> Result) -> Result { lock.withLock { change(&value) } }
}

/// A counter shared with background threads.
typealias LockedCounter = Locked<Int>

extension Locked where Value == Int {
    convenience init() { self.init(0) }

    func increment() { _ = incrementAndGet() }
    /// Adds one and returns the new count.
    func incrementAndGet() -> Int {
        modify {
            $0 += 1
            return $0
        }
    }
    var value: Int { self.get() }
}

typealias LockedData = Locked<Data>

extension Locked where Value == Data {
    convenience init() { self.init(Data()) }

    func append(_ more: Data) { modify { $0.append(more) } }
}

/// 127.0.0.1:`port` as the socket calls take it.
func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return address
}

/// A port nothing listens on now, on 127.0.0.1.
func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = loopback(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Sends `request` as it is (bytes curl would never send) to 127.0.0.1:`port` and returns the
/// whole answer as text, read until the server closes the connection or 5 s pass.
func rawHTTP(_ request: [UInt8], port: Int) throws -> String {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = loopback(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
    guard connected else { throw POSIXError(.ECONNREFUSED) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == request.count else {
        throw POSIXError(.EIO)
    }
    var answer: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        answer += buffer[0..<count]
    }
    return String(decoding: answer, as: UTF8.self)
}

/// `command` as the stack's unprivileged account when the tests run as root (nginx, PostgreSQL
/// and the workers run as it, and must be able to reach each other's sockets), handing `paths`
/// to that account first; unchanged otherwise.
func asRunUser(_ command: [String], owning paths: [String]) throws -> [String] {
    guard geteuid() == 0 else { return command }
    let user = try TestEnvironment.value("CLERK_WEBHOOK_TEST_RUN_USER")
    guard let account = getpwnam(user) else { throw POSIXError(.ENOENT) }
    for path in paths { chown(path, account.pointee.pw_uid, account.pointee.pw_gid) }
    return ["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(user)", "--init-groups", "--"] + command
}

extension TestDatabase {
    /// The server processes of the other client connections to this database (not the test's own).
    func otherClients() throws -> [String] {
        try query(
            """
            SELECT pid::text FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
            """
        ).compactMap { $0.first ?? nil }
    }

    /// Closes those connections from the server's side (`pg_terminate_backend`), as a restart or an
    /// idle timeout does, and waits until each backend has said goodbye and gone: whether they went
    /// within 10 s.
    func terminate(_ pids: [String]) throws -> Bool {
        let list = "{" + pids.joined(separator: ",") + "}"
        _ = try query("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", list)
        return waitUntil(seconds: 10) {
            (try? query("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", list)) == [["0"]]
        }
    }
}
