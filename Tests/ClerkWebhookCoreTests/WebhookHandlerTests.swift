import ClerkWebhookCore
import ClerkWebhookSystem
import Testing

/// The pipeline's mapping from request to response, without a database: the statement runner is
/// scripted to answer or fail. The same paths against real PostgreSQL are in IntegrationTests.
@Suite struct WebhookHandlerTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let now: Int64 = 1_716_883_600

    final class ScriptedExecutor: StatementExecutor {
        var answer: Result<String?, DatabaseError>
        var executed: [PlannedStatement] = []

        init(_ answer: Result<String?, DatabaseError>) { self.answer = answer }

        func execute(_ statement: PlannedStatement) throws(DatabaseError) -> String? {
            executed.append(statement)
            return try answer.get()
        }
    }

    static func handler(secrets: String = secret) -> WebhookHandler {
        WebhookHandler(
            verifier: Result { () throws(ConfigurationError) in
                try SignatureVerifier(
                    secrets: secrets, variable: "CLERK_WEBHOOK_SIGNING_SECRET", crypto: OpenSSLCrypto())
            })
    }

    static func signed(_ body: [UInt8], id: String = "msg_1", at timestamp: Int64 = now) throws -> WebhookRequest {
        let verifier = try SignatureVerifier(secrets: secret, variable: "", crypto: OpenSSLCrypto())
        let signature = verifier.signature(id: id, timestamp: timestamp, body: body)
        return WebhookRequest(
            method: "POST", headers: WebhookHeaders(id: id, timestamp: String(timestamp), signature: signature),
            body: body)
    }

    @Test("a signed user.created plans one apply statement and answers 200")
    func applies() throws {
        let executor = ScriptedExecutor(.success("applied"))
        let delivery = Self.handler().handle(
            .success(try Self.signed(fixture("user.created.json"))), now: Self.now, executor: executor)
        #expect(delivery.response == .accepted(.applied))
        #expect(
            executor.executed == [
                PlannedStatement(
                    sql: Statements.applyUserEvent,
                    parameters: [
                        "msg_1", "user.created", "upsert", "user_29w83sxmDNGwOuEthce5gg56FcC", "1654012591835",
                        "example@example.org", "Example Example",
                    ])
            ])
    }

    @Test("duplicate, stale and ignored outcomes are all 200", arguments: ["duplicate", "stale", "ignored"])
    func acknowledged(outcome: String) throws {
        let delivery = Self.handler().handle(
            .success(try Self.signed(fixture("user.deleted.json"))), now: Self.now,
            executor: ScriptedExecutor(.success(outcome)))
        #expect(delivery.response.status == 200)
        #expect(delivery.response.body.contains(outcome))
    }

    @Test("a bad signature is 401 and touches no database")
    func unauthorized() throws {
        var request = try Self.signed(fixture("user.created.json"))
        request.body += [0x20]
        let executor = ScriptedExecutor(.success("applied"))
        let delivery = Self.handler().handle(.success(request), now: Self.now, executor: executor)
        #expect(delivery.response == .invalidSignature)
        #expect(delivery.response.body == #"{"error":"Invalid signature"}"#)
        #expect(executor.executed.isEmpty)
    }

    @Test("a stale signature timestamp is 401")
    func staleTimestamp() throws {
        let request = try Self.signed(fixture("user.created.json"), at: Self.now - 301)
        let delivery = Self.handler().handle(
            .success(request), now: Self.now, executor: ScriptedExecutor(.success("applied")))
        #expect(delivery.response.status == 401)
    }

    @Test("a signed but malformed body is 400; only its rejection is recorded")
    func malformed() throws {
        let executor = ScriptedExecutor(.success("recorded"))
        let delivery = Self.handler().handle(
            .success(try Self.signed(fixture("malformed.missing-data-id.json"))), now: Self.now, executor: executor)
        #expect(delivery.response == .malformed)
        #expect(executor.executed.map(\.sql) == [Statements.recordRejection])
        #expect(executor.executed.first?.parameters.prefix(4) == ["msg_1", nil, nil, "400"])
    }

    @Test("a malformed body is 400 even when the rejection cannot be recorded")
    func malformedDatabaseDown() throws {
        let down = ScriptedExecutor(.failure(DatabaseError(sqlState: nil, message: "down", connectionLost: true)))
        let delivery = Self.handler().handle(
            .success(try Self.signed(fixture("malformed.missing-data-id.json"))), now: Self.now, executor: down)
        #expect(delivery.response.status == 400)
    }

    @Test(
        "transient database failures are 503 with Retry-After",
        arguments: [
            DatabaseError(sqlState: nil, message: "could not connect", connectionLost: true),
            DatabaseError(sqlState: "40001", message: "serialization failure"),
            DatabaseError(sqlState: "40P01", message: "deadlock detected"),
            DatabaseError(sqlState: "57014", message: "canceling statement due to statement timeout"),
            DatabaseError(sqlState: "55P03", message: "lock timeout"),
            DatabaseError(sqlState: "57P01", message: "terminating connection due to administrator command"),
            DatabaseError(sqlState: "08006", message: "connection failure"),
            DatabaseError(sqlState: "53300", message: "too many connections"),
        ])
    func transient(error: DatabaseError) throws {
        let delivery = Self.handler().handle(
            .success(try Self.signed(fixture("user.created.json"))), now: Self.now,
            executor: ScriptedExecutor(.failure(error)))
        #expect(delivery.response.status == 503)
        #expect(delivery.response.headers.contains { $0.name == "Retry-After" && $0.value == "5" })
    }

    @Test("permanent database failures are 500", arguments: ["42883", "23514", "42501", "XX000"])
    func permanent(state: String) throws {
        let delivery = Self.handler().handle(
            .success(try Self.signed(fixture("user.created.json"))), now: Self.now,
            executor: ScriptedExecutor(.failure(DatabaseError(sqlState: state, message: "x"))))
        #expect(delivery.response.status == 500)
    }

    @Test("an unreadable secret answers 500 for every delivery, never a pass")
    func misconfigured() throws {
        let executor = ScriptedExecutor(.success("applied"))
        let delivery = Self.handler(secrets: "whsec_***").handle(
            .success(try Self.signed(fixture("user.created.json"))), now: Self.now, executor: executor)
        #expect(delivery.response.status == 500)
        #expect(executor.executed.isEmpty)
        let line = delivery.logLine(durationMillis: 0).rendered(unixMillis: 0)
        #expect(line.contains("CLERK_WEBHOOK_SIGNING_SECRET"))
        #expect(!line.contains("***"))
    }

    @Test(
        "refusals before verification",
        arguments: [
            (RequestRejection.methodNotAllowed, 405), (.payloadTooLarge, 413), (.invalidContentLength, 400),
            (.incompleteBody, 400),
        ])
    func refused(rejection: RequestRejection, status: Int) {
        let delivery = Self.handler().handle(
            .failure(rejection), now: Self.now, executor: ScriptedExecutor(.success("applied")))
        #expect(delivery.response.status == status)
    }

    @Test("log lines carry ids and outcomes, never the email, name, body or signature")
    func logRedaction() throws {
        let request = try Self.signed(fixture("user.created.json"))
        let delivery = Self.handler().handle(
            .success(request), now: Self.now, executor: ScriptedExecutor(.success("applied")))
        let line = delivery.logLine(durationMillis: 3).rendered(unixMillis: 1_716_883_600_123)
        #expect(
            line.hasPrefix(#"{"time":"2024-05-28T08:06:40.123Z","level":"info","msg":"delivery","svix.id":"msg_1""#))
        #expect(line.contains(#""clerk.user_id":"user_29w83sxmDNGwOuEthce5gg56FcC""#))
        #expect(line.contains(#""outcome":"applied","http.status":200,"duration_ms":3}"#))
        for secret in [
            "example@example.org", "Example", request.headers.signature!, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ] {
            #expect(!line.contains(secret))
        }
    }
}
