import ClerkWebhookCore
import ClerkWebhookSystem
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct RequestAndConfigTests {
    static func read(_ variables: [String: String], body: [UInt8] = []) -> Result<WebhookRequest, RequestRejection> {
        Result { () throws(RequestRejection) in
            try WebhookRequest.read(parameter: { variables[$0] }, readBody: { Array(body.prefix($0)) })
        }
    }

    @Test("reads method, exactly CONTENT_LENGTH bytes and the svix headers")
    func reads() throws {
        let request = try Self.read(
            [
                "REQUEST_METHOD": "POST", "CONTENT_LENGTH": "2", "HTTP_SVIX_ID": " msg_1 ", "HTTP_SVIX_TIMESTAMP": "5",
                "HTTP_SVIX_SIGNATURE": "v1,x", "HTTP_WEBHOOK_ID": "ignored",
            ], body: Array("{}".utf8)
        ).get()
        #expect(request.body == Array("{}".utf8))
        #expect(request.headers == WebhookHeaders(id: "msg_1", timestamp: "5", signature: "v1,x"))
    }

    @Test("header values lose spaces and tabs at either end; a blank one counts as missing")
    func trimsHeaders() throws {
        let request = try Self.read([
            "REQUEST_METHOD": "POST", "HTTP_SVIX_ID": "\tmsg_3", "HTTP_SVIX_TIMESTAMP": "7 \t",
            "HTTP_SVIX_SIGNATURE": " \t ", "HTTP_WEBHOOK_SIGNATURE": "v1,a b",
        ]).get()
        #expect(request.headers == WebhookHeaders(id: "msg_3", timestamp: "7", signature: "v1,a b"))
    }

    @Test("falls back to the Standard Webhooks header names one header at a time")
    func standardWebhooksNames() throws {
        let request = try Self.read([
            "REQUEST_METHOD": "POST", "HTTP_WEBHOOK_ID": "msg_2", "HTTP_SVIX_TIMESTAMP": "6", "HTTP_SVIX_SIGNATURE": "",
            "HTTP_WEBHOOK_SIGNATURE": "v1,y",
        ]).get()
        #expect(request.headers == WebhookHeaders(id: "msg_2", timestamp: "6", signature: "v1,y"))
    }

    @Test(
        "refusals",
        arguments: [
            (["REQUEST_METHOD": "GET"], RequestRejection.methodNotAllowed),
            ([:], .methodNotAllowed),
            (["REQUEST_METHOD": "PUT", "CONTENT_LENGTH": "2"], .methodNotAllowed),
            (["REQUEST_METHOD": "POST", "CONTENT_LENGTH": "1048577"], .payloadTooLarge),
            (["REQUEST_METHOD": "POST", "CONTENT_LENGTH": "99999999999999999999999"], .invalidContentLength),
            (["REQUEST_METHOD": "POST", "CONTENT_LENGTH": "-1"], .invalidContentLength),
            (["REQUEST_METHOD": "POST", "CONTENT_LENGTH": "3"], .incompleteBody),
        ])
    func refusals(variables: [String: String], rejection: RequestRejection) {
        #expect(Self.read(variables, body: Array("{}".utf8)) == .failure(rejection))
    }

    @Test("1 MiB exactly is read")
    func limit() throws {
        let body = [UInt8](repeating: 0x20, count: WebhookRequest.maximumBodyBytes)
        let request = try Self.read(["REQUEST_METHOD": "POST", "CONTENT_LENGTH": String(body.count)], body: body).get()
        #expect(request.body.count == 1 << 20)
    }

    @Test("configuration: Clerk's current secret name wins, defaults apply")
    func config() throws {
        let config = try WebhookConfig(environment: [
            "CLERK_WEBHOOK_SIGNING_SECRET": "whsec_new", "CLERK_WEBHOOK_SECRET": "whsec_old",
            "DATABASE_URL": "postgresql:///x",
        ])
        #expect(config.signingSecrets == "whsec_new")
        #expect(config.databaseURL == "postgresql:///x")
        #expect(config.maximumRequests == 1)
        #expect(config.logLevel == .info)
        #expect(config.statementTimeoutMillis == 8000)
        let older = try WebhookConfig(environment: [
            "CLERK_WEBHOOK_SECRET": "whsec_old", "CLERK_WEBHOOK_MAX_REQUESTS": "0",
            "CLERK_WEBHOOK_STATEMENT_TIMEOUT_MS": "0",
        ])
        #expect(older.statementTimeoutMillis == nil)
        #expect(older.signingSecretsVariable == "CLERK_WEBHOOK_SECRET")
        #expect(older.maximumRequests == nil)
        #expect(older.databaseURL == nil)
    }

    @Test(
        "configuration errors name the variable",
        arguments: [
            ([:], "CLERK_WEBHOOK_SIGNING_SECRET"),
            (["CLERK_WEBHOOK_SIGNING_SECRET": "  "], "CLERK_WEBHOOK_SIGNING_SECRET"),
            (
                ["CLERK_WEBHOOK_SIGNING_SECRET": "whsec_x", "CLERK_WEBHOOK_MAX_REQUESTS": "many"],
                "CLERK_WEBHOOK_MAX_REQUESTS"
            ),
            (
                ["CLERK_WEBHOOK_SIGNING_SECRET": "whsec_x", "CLERK_WEBHOOK_STATEMENT_TIMEOUT_MS": "5s"],
                "CLERK_WEBHOOK_STATEMENT_TIMEOUT_MS"
            ),
            (
                ["CLERK_WEBHOOK_SIGNING_SECRET": "whsec_x", "CLERK_WEBHOOK_LOG_LEVEL": "loud"],
                "CLERK_WEBHOOK_LOG_LEVEL"
            ),
            // A NAME_FILE left by ProcessEnvironment.variables(): unreadable, or set beside NAME.
            (
                ["CLERK_WEBHOOK_SIGNING_SECRET_FILE": "/run/secrets/clerk"],
                "CLERK_WEBHOOK_SIGNING_SECRET_FILE names /run/secrets/clerk"
            ),
            (
                ["CLERK_WEBHOOK_SIGNING_SECRET": "whsec_x", "DATABASE_URL_FILE": "/run/secrets/db"],
                "DATABASE_URL_FILE names /run/secrets/db, which cannot be read"
            ),
            (
                ["CLERK_WEBHOOK_SIGNING_SECRET": "whsec_x", "CLERK_WEBHOOK_SIGNING_SECRET_FILE": "/run/secrets/clerk"],
                "CLERK_WEBHOOK_SIGNING_SECRET and CLERK_WEBHOOK_SIGNING_SECRET_FILE are both set"
            ),
            (
                [
                    "CLERK_WEBHOOK_SIGNING_SECRET": "whsec_x", "DATABASE_URL": "postgresql:///a",
                    "DATABASE_URL_FILE": "/d",
                ],
                "DATABASE_URL and DATABASE_URL_FILE are both set"
            ),
        ])
    func configErrors(environment: [String: String], variable: String) {
        let error = #expect(throws: ConfigurationError.self) { try WebhookConfig(environment: environment) }
        #expect(error?.message.contains(variable) == true)
    }

    @Test("ISO 8601 times and JSON escaping in log lines")
    func logFormatting() {
        #expect(LogLine.iso8601(unixMillis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(LogLine.iso8601(unixMillis: 951_782_400_007) == "2000-02-29T00:00:00.007Z")
        #expect(LogLine.iso8601(unixMillis: 1_795_587_291_999) == "2026-11-25T06:14:51.999Z")
        #expect(LogLine.quoted("a\"b\\c\n\u{1}") == #""a\"b\\c\n\u0001""#)
        #expect(LogLine.quoted("\u{1F}\t\r") == #""\u001f\t\r""#)
        #expect(LogLine.quoted("") == #""""#)
        #expect(LogLine.quoted("ab\"cd\\ef\u{0}gh") == #""ab\"cd\\ef\u0000gh""#)
        // Anything else, other Unicode included, goes in as it is.
        #expect(LogLine.quoted("é\u{2028}\u{7F}山") == "\"é\u{2028}\u{7F}山\"")
        #expect(
            LogLine(level: .warn, message: "m", fields: [("a", .text("x")), ("n", .integer(-42))])
                .rendered(unixMillis: 1_795_587_291_999)
                == #"{"time":"2026-11-25T06:14:51.999Z","level":"warn","msg":"m","a":"x","n":-42}"# + "\n")
    }

    @Test("the process environment splits each entry at its first \"=\" only")
    func processEnvironment() {
        // Names of this test's own, so nothing else in the process reads or writes them.
        setenv("CLERK_WEBHOOK_TEST_URL", "postgresql:///app?host=/run/pg&user=a=b", 1)
        setenv("CLERK_WEBHOOK_TEST_EMPTY", "", 1)
        setenv("CLERK_WEBHOOK_TEST_NAME", "Zoë Ångström", 1)
        defer {
            for name in ["CLERK_WEBHOOK_TEST_URL", "CLERK_WEBHOOK_TEST_EMPTY", "CLERK_WEBHOOK_TEST_NAME"] {
                unsetenv(name)
            }
        }
        let variables = ProcessEnvironment.variables()
        #expect(variables["CLERK_WEBHOOK_TEST_URL"] == "postgresql:///app?host=/run/pg&user=a=b")
        #expect(variables["CLERK_WEBHOOK_TEST_EMPTY"] == "")
        #expect(variables["CLERK_WEBHOOK_TEST_NAME"] == "Zoë Ångström")
        #expect(variables["PATH"] == String(cString: getenv("PATH")))
    }
}
