import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

/// The release binary started by hand as a CGI program: the environment and stdin in, the
/// response on stdout, one log line on stderr.
@Suite struct CGIProcessTests {
    func run(_ environment: [String: String], stdin: [UInt8] = []) throws -> ProcessRun {
        try ProcessRun(try TestEnvironment.value("CLERK_WEBHOOK_TEST_BINARY"), environment: environment, stdin: stdin)
    }

    @Test("a signed delivery on stdin is applied and answered on stdout")
    func delivery() throws {
        let database = try TestDatabase()
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: "cgi-\(user)@example.com", first: "Cgi", updatedAt: 42)
        let now = Int64(Date().timeIntervalSince1970)
        let result = try run(
            [
                "REQUEST_METHOD": "POST", "CONTENT_LENGTH": String(body.count), "HTTP_SVIX_ID": "msg_cgi",
                "HTTP_SVIX_TIMESTAMP": String(now),
                "HTTP_SVIX_SIGNATURE": TestEnvironment.signer.signature(id: "msg_cgi", timestamp: now, body: body),
                "GATEWAY_INTERFACE": "CGI/1.1", "CLERK_WEBHOOK_SIGNING_SECRET": TestEnvironment.secret,
                "DATABASE_URL": database.url,
            ], stdin: body)
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("Status: 200 OK\r\nContent-Type: application/json\r\n"))
        #expect(result.stdout.hasSuffix(#"{"ok":true,"outcome":"applied"}"#))
        #expect(result.stderr.contains(#""outcome":"applied""#))
        #expect(try database.user(user) == UserRow(email: "cgi-\(user)@example.com", name: "Cgi", clerkUpdatedAt: 42))
    }

    @Test("--help by hand says what the binary is and how it is run; in a request it changes nothing")
    func help() throws {
        let binary = try TestEnvironment.value("CLERK_WEBHOOK_TEST_BINARY")
        for flag in ["--help", "-h"] {
            let byHand = try ProcessRun(binary, [flag], environment: [:])
            #expect(byHand.status == 0)
            #expect(byHand.stdout.contains("nginx hands it requests"), "\(byHand.stdout)")
            #expect(byHand.stderr.isEmpty)
        }
        let request = try ProcessRun(
            binary, ["--help"],
            environment: [
                "REQUEST_METHOD": "GET", "GATEWAY_INTERFACE": "CGI/1.1",
                "CLERK_WEBHOOK_SIGNING_SECRET": TestEnvironment.secret,
            ])
        #expect(request.stdout.hasPrefix("Status: 405"), "\(request.stdout)")
    }

    @Test("no signing secret: 500 and a log line naming the variable")
    func missingSecret() throws {
        let result = try run(
            ["REQUEST_METHOD": "POST", "CONTENT_LENGTH": "2", "GATEWAY_INTERFACE": "CGI/1.1"], stdin: Array("{}".utf8))
        #expect(result.stdout.hasPrefix("Status: 500"))
        #expect(result.stderr.contains("CLERK_WEBHOOK_SIGNING_SECRET is not set"))
    }

    @Test("health: 503 with Retry-After when the database is unreachable")
    func healthDown() throws {
        let result = try run([
            "REQUEST_METHOD": "GET", "CLERK_WEBHOOK_ROUTE": "health", "GATEWAY_INTERFACE": "CGI/1.1",
            "CLERK_WEBHOOK_SIGNING_SECRET": TestEnvironment.secret,
            "DATABASE_URL": "postgresql:///nowhere?host=/nonexistent",
        ])
        #expect(result.stdout.hasPrefix("Status: 503"))
        #expect(result.stdout.contains("Retry-After: 5"))
        #expect(result.stdout.hasSuffix(#"{"ok":false,"database":"unreachable"}"#))
        #expect(result.stderr.contains(#"on socket \"/nonexistent/.s.PGSQL.5432\" failed"#), "\(result.stderr)")
    }

    @Test("the Supabase project URL in DATABASE_URL: 503, and the log says what it is instead of a socket error")
    func projectURLForDatabase() throws {
        let result = try run([
            "REQUEST_METHOD": "GET", "CLERK_WEBHOOK_ROUTE": "health", "GATEWAY_INTERFACE": "CGI/1.1",
            "CLERK_WEBHOOK_SIGNING_SECRET": TestEnvironment.secret, "DATABASE_URL": "https://abcdefgh.supabase.co",
        ])
        #expect(result.stdout.hasPrefix("Status: 503"))
        #expect(result.stderr.contains("is the Supabase project's API URL, not its database"), "\(result.stderr)")
        #expect(!result.stderr.contains(".s.PGSQL"), "\(result.stderr)")
    }

    @Test("health: 503 when the migrations were not applied")
    func healthNotMigrated() throws {
        let result = try run([
            "REQUEST_METHOD": "GET", "CLERK_WEBHOOK_ROUTE": "health", "GATEWAY_INTERFACE": "CGI/1.1",
            "CLERK_WEBHOOK_SIGNING_SECRET": TestEnvironment.secret,
            "DATABASE_URL": try TestEnvironment.databaseURL("postgres"),
        ])
        #expect(result.stdout.hasSuffix(#"{"ok":false,"database":"not migrated"}"#))
    }

    @Test(
        "a login in clerk_webhook_writer applies deliveries; a login outside it gets 503 health and 500, nothing written"
    )
    func leastPrivilegeLogin() throws {
        let database = try TestDatabase()
        let admin = try PostgresConnection(url: TestEnvironment.databaseURL("postgres"))
        let writer = "writer_" + uniqueToken()
        let outsider = "outsider_" + uniqueToken()
        try admin.execute(
            PlannedStatement(sql: "CREATE ROLE \(writer) LOGIN IN ROLE clerk_webhook_writer", parameters: []))
        try admin.execute(PlannedStatement(sql: "CREATE ROLE \(outsider) LOGIN", parameters: []))
        defer { _ = try? admin.execute(PlannedStatement(sql: "DROP ROLE \(writer), \(outsider)", parameters: [])) }
        func url(as role: String) throws -> String { try TestEnvironment.databaseURL(database.name, role: role) }
        func health(as role: String) throws -> ProcessRun {
            try run([
                "REQUEST_METHOD": "GET", "CLERK_WEBHOOK_ROUTE": "health", "GATEWAY_INTERFACE": "CGI/1.1",
                "CLERK_WEBHOOK_SIGNING_SECRET": TestEnvironment.secret, "DATABASE_URL": try url(as: role),
            ])
        }

        #expect(try health(as: writer).stdout.hasPrefix("Status: 200"))
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: "w-\(user)@example.com", first: "Writer", updatedAt: 5)
        let applied = try CGIAnswer(body, id: "msg_" + user, databaseURL: try url(as: writer))
        #expect(applied.status == 200, "\(applied.output) \(applied.log)")
        #expect(try database.user(user) == UserRow(email: "w-\(user)@example.com", name: "Writer", clerkUpdatedAt: 5))
        // What a warm worker runs before its request; the tables themselves stay closed to the login.
        let connection = try PostgresConnection(url: try url(as: writer))
        #expect(try connection.execute(PlannedStatement(sql: Statements.warmUp, parameters: [])) == [["warm"]])
        #expect(throws: DatabaseError.self) {
            try connection.execute(PlannedStatement(sql: "SELECT email FROM public.users", parameters: []))
        }

        let denied = try health(as: outsider)
        #expect(denied.stdout.hasPrefix("Status: 503"))
        #expect(denied.stdout.hasSuffix(#"{"ok":false,"database":"no privilege"}"#))
        #expect(denied.stderr.contains("make it a member of clerk_webhook_writer"))
        let other = "user_" + uniqueToken()
        let refused = try CGIAnswer(
            ClerkPayload.user(id: other, email: nil, updatedAt: 1), id: "msg_" + other,
            databaseURL: try url(as: outsider))
        #expect(refused.status == 500, "\(refused.output)")
        #expect(try database.user(other) == nil)
    }

    @Test("secrets can come from files (CLERK_WEBHOOK_SIGNING_SECRET_FILE)")
    func secretFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secret-" + uniqueToken())
        try Data((TestEnvironment.secret + "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let database = try TestDatabase()
        let result = try run([
            "REQUEST_METHOD": "GET", "CLERK_WEBHOOK_ROUTE": "health", "GATEWAY_INTERFACE": "CGI/1.1",
            "CLERK_WEBHOOK_SIGNING_SECRET_FILE": file.path, "DATABASE_URL": database.url,
        ])
        #expect(result.stdout.hasPrefix("Status: 200"))
    }

    @Test("DATABASE_URL_FILE is read; one that cannot be read is a 500 naming it, never libpq's defaults")
    func databaseURLFile() throws {
        let database = try TestDatabase()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("database-url-" + uniqueToken())
        try Data((database.url + "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: nil, first: "File", updatedAt: 1)
        let read = try CGIAnswer(
            body, id: "msg_" + user, databaseURL: nil, environment: ["DATABASE_URL_FILE": file.path])
        #expect(read.status == 200, "\(read.log)")
        #expect(try database.user(user)?.name == "File")

        // libpq's own defaults reach the same database here: a typo in the path must not fall back to them.
        let defaults = [
            "PGHOST": try TestEnvironment.value("CLERK_WEBHOOK_TEST_PGHOST"),
            "PGPORT": try TestEnvironment.value("CLERK_WEBHOOK_TEST_PGPORT"), "PGDATABASE": database.name,
            "PGUSER": "postgres",
        ]
        let other = "user_" + uniqueToken()
        let missing = file.path + "-typo"
        for (environment, expected) in [
            (["DATABASE_URL_FILE": missing], "DATABASE_URL_FILE names \(missing), which cannot be read"),
            (
                ["DATABASE_URL_FILE": file.path, "DATABASE_URL": database.url],
                "DATABASE_URL and DATABASE_URL_FILE are both set"
            ),
        ] {
            let refused = try CGIAnswer(
                ClerkPayload.user(id: other, email: nil, updatedAt: 1), id: "msg_" + other, databaseURL: nil,
                environment: defaults.merging(environment) { $1 })
            #expect(refused.status == 500)
            #expect(refused.log.contains(expected), "\(refused.log)")
        }
        #expect(try database.user(other) == nil)
        #expect(try database.ledgerOutcome("msg_" + other) == nil)
    }

    @Test("a signing secret file that cannot be read: 500 naming it, not 'not set'")
    func unreadableSecretFile() throws {
        let missing = "/nonexistent/clerk-" + uniqueToken()
        let result = try run(
            [
                "REQUEST_METHOD": "POST", "CONTENT_LENGTH": "2", "GATEWAY_INTERFACE": "CGI/1.1",
                "CLERK_WEBHOOK_SIGNING_SECRET_FILE": missing,
            ], stdin: Array("{}".utf8))
        #expect(result.stdout.hasPrefix("Status: 500"))
        #expect(result.stderr.contains("CLERK_WEBHOOK_SIGNING_SECRET_FILE names \(missing), which cannot be read"))
    }
}

/// The shipped binary links libpq (without Kerberos and LDAP) and OpenSSL statically
/// (scripts/static-link/prepare.sh), and glibc too, as a static PIE (scripts/build.sh): TLS and
/// password logins to the database must still work and still verify, and what was left out must
/// fail like any unreachable database, never crash or pass silently.
@Suite struct StaticLinkTests {
    /// Creates a login in clerk_webhook_writer with `password` (scripts/test.sh makes members of
    /// clerk_webhook_password_login authenticate with SCRAM-SHA-256) and returns its name.
    static func createPasswordLogin(_ prefix: String, password: String, admin: PostgresConnection) throws -> String {
        let login = prefix + uniqueToken()
        try admin.execute(
            PlannedStatement(
                sql: "CREATE ROLE \(login) LOGIN PASSWORD '\(password)' "
                    + "IN ROLE clerk_webhook_writer, clerk_webhook_password_login", parameters: []))
        return login
    }

    @Test("over TLS with the server certificate verified (sslmode=verify-full): 200 and the row")
    func verifiedTLS() throws {
        let database = try TestDatabase()
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: "tls-\(user)@example.com", first: "Tls", updatedAt: 7)
        let answer = try CGIAnswer(body, id: "msg_" + user, databaseURL: TestEnvironment.tlsDatabaseURL(database.name))
        #expect(answer.status == 200, "\(answer.output) \(answer.log)")
        #expect(try database.user(user) == UserRow(email: "tls-\(user)@example.com", name: "Tls", clerkUpdatedAt: 7))
    }

    /// A wrong password answers 503 with Retry-After, applies nothing and is never logged.
    @Test("a password login over TLS as Supabase asks (SCRAM-SHA-256, verify-full): 200 and the row")
    func passwordLogin() throws {
        let database = try TestDatabase()
        let admin = try PostgresConnection(url: TestEnvironment.databaseURL("postgres"))
        let password = "pw" + uniqueToken() + uniqueToken()
        let login = try Self.createPasswordLogin("scram_", password: password, admin: admin)
        defer { _ = try? admin.execute(PlannedStatement(sql: "DROP ROLE \(login)", parameters: [])) }
        let stored = try admin.execute(
            PlannedStatement(sql: "SELECT rolpassword FROM pg_authid WHERE rolname = $1", parameters: [login]))
        #expect(stored.first?.first??.hasPrefix("SCRAM-SHA-256$") == true)

        func url(_ secret: String) throws -> String {
            try TestEnvironment.tlsDatabaseURL(database.name, login: "\(login):\(secret)")
        }
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: "pw-\(user)@example.com", first: "Scram", updatedAt: 3)
        let wrong = try CGIAnswer(body, id: "msg_" + user, databaseURL: url("not" + password))
        #expect(wrong.status == 503 && wrong.hasRetryAfter, "\(wrong.output) \(wrong.log)")
        #expect(wrong.log.contains("password authentication failed"), "\(wrong.log)")
        #expect(try database.user(user) == nil)
        let right = try CGIAnswer(body, id: "msg_" + user, databaseURL: url(password))
        #expect(right.status == 200, "\(right.output) \(right.log)")
        #expect(try database.user(user) == UserRow(email: "pw-\(user)@example.com", name: "Scram", clerkUpdatedAt: 3))
        for answer in [wrong, right] {
            #expect(!answer.log.contains(password) && !answer.output.contains(password))
        }
    }

    @Test(
        "a password with @ / % and a space: percent-encoded (with Prisma's ?pgbouncer=true&connection_limit=1) 200; written raw, 503 with the fix in the log and no piece of it anywhere"
    )
    func specialCharacterPassword() throws {
        let database = try TestDatabase()
        let admin = try PostgresConnection(url: TestEnvironment.databaseURL("postgres"))
        let pieces = ["Qz8w", "Vb3n", "Xk5", "Rt9", "Lm4y"]
        let password = "Qz8w@Vb3n/Xk5%Rt9 Lm4y"
        let login = try Self.createPasswordLogin("special_", password: password, admin: admin)
        defer { _ = try? admin.execute(PlannedStatement(sql: "DROP ROLE \(login)", parameters: [])) }
        let port = try TestEnvironment.value("CLERK_WEBHOOK_TEST_PGPORT")
        let certificate = try TestEnvironment.value("CLERK_WEBHOOK_TEST_TLS_ROOT_CERT")
        let keyValue =
            "host=127.0.0.1 port=\(port) dbname=\(database.name) user=\(login) sslmode=verify-full"
            + " sslrootcert=\(certificate) password="
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: "special-\(user)@example.com", first: "Special", updatedAt: 5)

        let raw = [
            (try TestEnvironment.tlsDatabaseURL(database.name, login: "\(login):\(password)"), "as %25"),
            (keyValue + password, #"missing \"=\" after \"…\""#),  // as the JSON log line escapes it
        ]
        for (url, fix) in raw {
            let answer = try CGIAnswer(body, id: "msg_" + uniqueToken(), databaseURL: url)
            #expect(answer.status == 503 && answer.hasRetryAfter, "\(answer.output)")
            #expect(answer.log.contains(fix), "\(answer.log)")
            for piece in pieces {
                #expect(!answer.log.contains(piece) && !answer.output.contains(piece), "\(piece) in \(answer.log)")
            }
        }
        #expect(try database.user(user) == nil)

        let encoded = "Qz8w%40Vb3n%2FXk5%25Rt9%20Lm4y"
        let prisma =
            try TestEnvironment.tlsDatabaseURL(database.name, login: "\(login):\(encoded)")
            + "&pgbouncer=true&connection_limit=1"
        let quoted = keyValue + "'\(password)'"
        for (url, outcome) in [(prisma, "applied"), (quoted, "stale")] {
            let answer = try CGIAnswer(body, id: "msg_" + uniqueToken(), databaseURL: url)
            #expect(answer.status == 200, "\(answer.output) \(answer.log)")
            #expect(answer.output.hasSuffix(#""outcome":"\#(outcome)"}"#), "\(answer.output)")
        }
        #expect(
            try database.user(user) == UserRow(email: "special-\(user)@example.com", name: "Special", clerkUpdatedAt: 5)
        )
    }

    @Test("a server certificate that does not verify: 503 with Retry-After, nothing applied")
    func unverifiedTLS() throws {
        let database = try TestDatabase()
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: "tls-\(user)@example.com", first: "Tls", updatedAt: 7)
        // Debian's public CA bundle: the test server's self-signed certificate is not in it.
        let url = try TestEnvironment.tlsDatabaseURL(
            database.name, rootCertificate: "/etc/ssl/certs/ca-certificates.crt")
        let answer = try CGIAnswer(body, id: "msg_" + user, databaseURL: url)
        #expect(answer.status == 503, "\(answer.output)")
        #expect(answer.hasRetryAfter)
        #expect(try database.user(user) == nil)
    }

    @Test("GSSAPI encryption required, or an LDAP service lookup: 503 with Retry-After, nothing applied")
    func unsupportedConnectionOptions() throws {
        let services = FileManager.default.temporaryDirectory.appendingPathComponent("pg_service-" + uniqueToken())
        try Data("[viaLDAP]\nldap://127.0.0.1:9/dc=example,dc=com?uniqueMember?one?(cn=clerk)\n".utf8).write(
            to: services)
        defer { try? FileManager.default.removeItem(at: services) }
        for url in ["host=127.0.0.1 port=9 dbname=clerk gssencmode=require", "service=viaLDAP"] {
            let user = "user_" + uniqueToken()
            let body = ClerkPayload.user(id: user, email: "k-\(user)@example.com", first: "Kerberos", updatedAt: 1)
            let answer = try CGIAnswer(
                body, id: "msg_" + user, databaseURL: url, environment: ["PGSERVICEFILE": services.path])
            #expect(answer.exitStatus == 0, "\(url)")
            #expect(answer.status == 503, "\(url): \(answer.output)")
            #expect(answer.hasRetryAfter)
            #expect(answer.log.contains(#""outcome":"retryable-error""#), "\(answer.log)")
        }
    }
}

/// Secrets never leak, and a wrong one is loud.
@Suite struct SecretTests {
    @Test("a wrong secret configured: every delivery 401, each logged as a warning that names the variable")
    func wrongSecret() throws {
        let database = try TestDatabase()
        let configured = "whsec_" + String(repeating: "B", count: 43) + "="
        var answers: [CGIAnswer] = []
        for index in 0..<3 {
            let user = "user_" + uniqueToken()
            let body = ClerkPayload.user(id: user, email: "w-\(user)@example.com", first: "Wrongsecret", updatedAt: 1)
            answers.append(
                try CGIAnswer(
                    body, id: "msg_wrong_\(index)_\(user)", databaseURL: database.url,
                    environment: ["CLERK_WEBHOOK_SIGNING_SECRET": configured]))
        }
        for answer in answers {
            #expect(answer.status == 401)
            #expect(answer.output.hasSuffix(#"{"error":"Invalid signature"}"#))
            #expect(answer.log.contains(#""level":"warn""#))
            #expect(answer.log.contains("CLERK_WEBHOOK_SIGNING_SECRET is wrong or was rotated"), "\(answer.log)")
            for secret in ["BBBBBBBBBB", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "@example.com", "Wrongsecret", "v1,"] {
                #expect(!answer.log.contains(secret) && !answer.output.contains(secret))
            }
        }
        #expect(try database.query("SELECT count(*) FROM public.users") == [["0"]])
    }
}
