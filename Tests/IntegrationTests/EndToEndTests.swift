import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

/// One running deployment of nginx/ that scripts/test.sh started: CGI (fcgiwrap), warm single-use
/// or persistent (spawn-fcgi + multiwatch), each behind its own nginx.
struct Deployment: Sendable, CustomTestStringConvertible {
    var mode: String
    var url: String
    var log: String

    var testDescription: String { mode }

    /// Every deployment from CLERK_WEBHOOK_TEST_DEPLOYMENTS; when it is unset, one that fails.
    static let all: [Deployment] = {
        let value = ProcessInfo.processInfo.environment["CLERK_WEBHOOK_TEST_DEPLOYMENTS"] ?? ""
        let parsed = value.split(separator: ";").compactMap { entry -> Deployment? in
            let parts = entry.split(separator: " ").map(String.init)
            return parts.count == 3 ? Deployment(mode: parts[0], url: parts[1], log: parts[2]) : nil
        }
        return parsed.isEmpty ? [Deployment(mode: "missing", url: "", log: "")] : parsed
    }()
}

/// Through real nginx in each deployment mode, with curl: the status a sender sees and the rows
/// that result.
@Suite struct EndToEndTests {
    let database: TestDatabase

    init() throws {
        _ = try TestEnvironment.value("CLERK_WEBHOOK_TEST_DEPLOYMENTS")
        database = try TestDatabase(existing: TestEnvironment.value("CLERK_WEBHOOK_TEST_E2E_DATABASE"))
    }

    @Test(
        "200: a signed user.created becomes a row; the same delivery again changes nothing", arguments: Deployment.all)
    func created(deployment: Deployment) throws {
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(
            id: user, email: "e2e-\(user)@example.com", first: "Grace", last: "Hopper", updatedAt: 100)
        let id = "msg_" + uniqueToken()
        let first = try signedPost(body, url: deployment.url, id: id)
        #expect(first.status == 200)
        #expect(first.body == #"{"ok":true,"outcome":"applied"}"#)
        #expect(first.headers.lowercased().contains("content-type: application/json"))
        #expect(
            try database.user(user)
                == UserRow(email: "e2e-\(user)@example.com", name: "Grace Hopper", clerkUpdatedAt: 100))
        let again = try signedPost(body, url: deployment.url, id: id)
        #expect(again.status == 200)
        #expect(again.body == #"{"ok":true,"outcome":"duplicate"}"#)
        #expect(try database.query("SELECT count(*) FROM public.users WHERE clerk_id = $1", user) == [["1"]])
    }

    @Test("200: Standard Webhooks header names; deletes keep the row", arguments: Deployment.all)
    func standardHeadersAndDelete(deployment: Deployment) throws {
        let user = "user_" + uniqueToken()
        let created = ClerkPayload.user(id: user, email: nil, updatedAt: 1)
        #expect(try signedPost(created, url: deployment.url, prefix: "webhook").status == 200)
        #expect(try signedPost(ClerkPayload.deleted(id: user), url: deployment.url).status == 200)
        #expect(try database.user(user) == UserRow(email: nil, name: nil, deleted: true, clerkUpdatedAt: 1))
    }

    @Test("400: signed but malformed; nothing applied, the rejection recorded", arguments: Deployment.all)
    func malformed(deployment: Deployment) throws {
        let ids = ["msg_" + uniqueToken(), "msg_" + uniqueToken()]
        let reply = try signedPost(
            try repositoryFixture("malformed.missing-data-id.json"), url: deployment.url, id: ids[0])
        #expect(reply.status == 400)
        #expect(reply.body == #"{"error":"Malformed event"}"#)
        #expect(try signedPost(Array("not json".utf8), url: deployment.url, id: ids[1]).status == 400)
        for id in ids {
            #expect(try database.ledgerOutcome(id) == nil)
            #expect(
                try database.query("SELECT http_status FROM clerk_webhook.rejections WHERE svix_id = $1", id) == [
                    ["400"]
                ])
        }
    }

    @Test("401: a bad signature or missing headers; nothing written", arguments: Deployment.all)
    func unauthorized(deployment: Deployment) throws {
        let user = "user_" + uniqueToken()
        let id = "msg_" + uniqueToken()
        let reply = try signedPost(
            ClerkPayload.user(id: user, email: nil, updatedAt: 1), url: deployment.url, id: id, tamper: true)
        #expect(reply.status == 401)
        #expect(reply.body == #"{"error":"Invalid signature"}"#)
        let unsigned = try curl(
            ["-X", "POST"], body: ClerkPayload.user(id: user, email: nil, updatedAt: 1), url: deployment.url)
        #expect(unsigned.status == 401)
        #expect(try database.user(user) == nil)
        #expect(try database.query("SELECT count(*) FROM clerk_webhook.rejections WHERE svix_id = $1", id) == [["0"]])
    }

    @Test("405: only POST reaches the webhook", arguments: Deployment.all, ["GET", "PUT", "DELETE", "PATCH"])
    func methodNotAllowed(deployment: Deployment, method: String) throws {
        let reply = try curl(["-X", method], url: deployment.url)
        #expect(reply.status == 405)
        #expect(reply.headers.contains("Allow: POST"))
    }

    @Test("413: a body over 1 MiB is refused before the webhook runs", arguments: Deployment.all)
    func tooLarge(deployment: Deployment) throws {
        let reply = try signedPost([UInt8](repeating: UInt8(ascii: " "), count: (1 << 20) + 1), url: deployment.url)
        #expect(reply.status == 413)
        #expect(reply.body.contains("Payload too large"))
    }

    @Test("a trailing slash, as an Edge Function's URL allows: the same webhook", arguments: Deployment.all)
    func trailingSlash(deployment: Deployment) throws {
        let user = "user_" + uniqueToken()
        let url = deployment.url + "/"
        let body = ClerkPayload.user(id: user, email: nil, first: "Ada", last: nil, updatedAt: 7)
        let reply = try signedPost(body, url: url + "?source=clerk")
        #expect(reply.status == 200)
        #expect(reply.body == #"{"ok":true,"outcome":"applied"}"#)
        #expect(try database.user(user) == UserRow(email: nil, name: "Ada", clerkUpdatedAt: 7))
        #expect(try signedPost(body, url: url, tamper: true).status == 401)
        #expect(try curl([], url: url).status == 405)
        let tooLarge = try signedPost([UInt8](repeating: UInt8(ascii: " "), count: (1 << 20) + 1), url: url)
        #expect(tooLarge.status == 413)
    }

    @Test("404: other paths", arguments: Deployment.all)
    func notFound(deployment: Deployment) throws {
        let other = deployment.url.replacingOccurrences(of: "/functions/v1/clerk-webhook", with: "/functions/v1/other")
        #expect(try curl([], url: other).status == 404)
        #expect(try curl([], url: deployment.url + "/anything").status == 404)
    }

    @Test(
        "requests nginx cannot parse: its 400 or 414, never a 5xx; a header line over 8 KB in JSON",
        arguments: Deployment.all)
    func unparsable(deployment: Deployment) throws {
        let port = try #require(URLComponents(string: deployment.url)?.port)
        let path = "/functions/v1/clerk-webhook"
        let cases: [(String, [UInt8], String)] = [
            ("garbage", Array("GARBAGE\r\n\r\n".utf8), "HTTP/1.1 400 "),
            (
                "a control byte in the path", Array("POST \(path)\u{1}x HTTP/1.1\r\nHost: a\r\n\r\n".utf8),
                "HTTP/1.1 400 "
            ),
            ("no Host", Array("POST \(path) HTTP/1.1\r\n\r\n".utf8), "HTTP/1.1 400 "),
            (
                "a broken chunked body",
                Array("POST \(path) HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8),
                "HTTP/1.1 400 "
            ),
            (
                "a request line over 8 KB",
                Array("POST /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: a\r\n\r\n".utf8), "HTTP/1.1 414 "
            ),
            (
                "a header line over 8 KB",
                Array(
                    "POST \(path) HTTP/1.1\r\nHost: a\r\nsvix-signature: \(String(repeating: "a", count: 9000))\r\n\r\n"
                        .utf8), "HTTP/1.1 400 "
            ),
        ]
        for (name, request, expected) in cases {
            let answer = try rawHTTP(request, port: port)
            #expect(answer.hasPrefix(expected), "\(name): \(answer.prefix(80))")
        }
        let oversized = try rawHTTP(cases[5].1, port: port)
        #expect(oversized.hasSuffix(#"{"error":"Bad request"}"# + "\n"), "\(oversized)")
    }

    @Test("health: 200 with a reachable, migrated database; only GET and HEAD", arguments: Deployment.all)
    func health(deployment: Deployment) throws {
        let reply = try curl([], url: deployment.url + "/health")
        #expect(reply.status == 200)
        #expect(reply.body == #"{"ok":true,"database":"reachable"}"#)
        #expect(try curl(["-X", "POST"], url: deployment.url + "/health").status == 405)
    }

    @Test("workers are replaced and keep serving: 30 requests in a row", arguments: Deployment.all)
    func keepsServing(deployment: Deployment) throws {
        // Warm workers exit after every request; the process manager must keep replacing them.
        let statuses = try (0..<30).map { _ in try curl([], url: deployment.url + "/health").status }
        #expect(statuses == Array(repeating: 200, count: 30))
    }

    @Test("the log has one line per delivery, without secret, signature, email or name", arguments: Deployment.all)
    func logsAreClean(deployment: Deployment) throws {
        let user = "user_" + uniqueToken()
        let email = "log-\(user)@example.com"
        let id = "msg_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: email, first: "Lognamefirst", updatedAt: 1)
        #expect(try signedPost(body, url: deployment.url, id: id).status == 200)
        // The line reaches the file through the process manager's stderr pipe (in warm mode, through
        // a line-buffered filter), so it may land a moment after the response: wait up to 5 s.
        var log = ""
        var lines: [Substring] = []
        for _ in 0..<500 {
            log = try String(contentsOfFile: deployment.log, encoding: .utf8)
            lines = log.split(separator: "\n").filter { $0.contains(id) }
            if !lines.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(lines.count == 1)
        #expect(
            lines.first?.contains(#"\"outcome\":\"applied\""#) == true
                || lines.first?.contains(#""outcome":"applied""#) == true)
        #expect(lines.first?.contains(user) == true)
        for forbidden in [email, "Lognamefirst", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "v1,"] {
            #expect(!log.contains(forbidden), "log contains \(forbidden)")
        }
    }
}

extension TestDatabase {
    /// Connects to an existing database by name.
    init(existing name: String) throws {
        try self.init(url: TestDatabase.url(name))
    }

    /// A database elsewhere, e.g. on the fault tests' own cluster.
    init(url: String) throws {
        self.url = url
        connection = try PostgresConnection(url: url)
    }
}
