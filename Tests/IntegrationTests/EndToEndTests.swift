import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

/// Through real nginx and fcgiwrap (the CGI deployment in nginx/) with curl: the status a sender
/// sees and the rows that result. scripts/test.sh starts the stack and exports its URL.
@Suite struct EndToEndTests {
    struct Reply {
        var status: Int
        var headers: String
        var body: String
    }

    let url: String
    let database: TestDatabase
    let verifier: SignatureVerifier

    init() throws {
        url = try TestEnvironment.value("CLERK_WEBHOOK_TEST_URL")
        database = try TestDatabase(existing: TestEnvironment.value("CLERK_WEBHOOK_TEST_E2E_DATABASE"))
        verifier = try SignatureVerifier(secrets: TestEnvironment.secret, variable: "test", crypto: OpenSSLCrypto())
    }

    /// Runs curl and returns the status, the response headers and the body.
    func curl(_ arguments: [String], body: [UInt8]? = nil, url: String? = nil) throws -> Reply {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-" + uniqueToken())
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
        process.arguments = all + [url ?? self.url]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let status = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Reply(
            status: Int(status) ?? -1,
            headers: (try? String(contentsOf: directory.appendingPathComponent("headers"), encoding: .utf8)) ?? "",
            body: (try? String(contentsOf: directory.appendingPathComponent("body"), encoding: .utf8)) ?? "")
    }

    /// POSTs `body` signed now, with svix (or Standard Webhooks) header names.
    func post(_ body: [UInt8], id: String = "msg_" + uniqueToken(), prefix: String = "svix", tamper: Bool = false)
        throws -> Reply
    {
        let now = Int64(Date().timeIntervalSince1970)
        let signature = verifier.signature(id: id, timestamp: now, body: body)
        let sent = tamper ? body + Array(" ".utf8) : body
        return try curl(
            [
                "-X", "POST", "-H", "\(prefix)-id: \(id)", "-H", "\(prefix)-timestamp: \(now)", "-H",
                "\(prefix)-signature: \(signature)",
            ],
            body: sent)
    }

    @Test("200: a signed user.created becomes a row; the same delivery again changes nothing")
    func created() throws {
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(
            id: user, email: "e2e-\(user)@example.com", first: "Grace", last: "Hopper", updatedAt: 100)
        let id = "msg_" + uniqueToken()
        let first = try post(body, id: id)
        #expect(first.status == 200)
        #expect(first.body == #"{"ok":true,"outcome":"applied"}"#)
        #expect(first.headers.lowercased().contains("content-type: application/json"))
        #expect(
            try database.user(user)
                == UserRow(email: "e2e-\(user)@example.com", name: "Grace Hopper", clerkUpdatedAt: 100))
        let again = try post(body, id: id)
        #expect(again.status == 200)
        #expect(again.body == #"{"ok":true,"outcome":"duplicate"}"#)
        #expect(try database.query("SELECT count(*) FROM public.users WHERE clerk_id = $1", user) == [["1"]])
    }

    @Test("200: Standard Webhooks header names; deletes keep the row")
    func standardHeadersAndDelete() throws {
        let user = "user_" + uniqueToken()
        #expect(try post(ClerkPayload.user(id: user, email: nil, updatedAt: 1), prefix: "webhook").status == 200)
        #expect(try post(ClerkPayload.deleted(id: user)).status == 200)
        #expect(try database.user(user) == UserRow(email: nil, name: nil, deleted: true, clerkUpdatedAt: 1))
    }

    @Test("400: signed but malformed, and nothing is written")
    func malformed() throws {
        let ids = ["msg_" + uniqueToken(), "msg_" + uniqueToken()]
        let reply = try post(try repositoryFixture("malformed.missing-data-id.json"), id: ids[0])
        #expect(reply.status == 400)
        #expect(reply.body == #"{"error":"Malformed event"}"#)
        #expect(try post(Array("not json".utf8), id: ids[1]).status == 400)
        for id in ids { #expect(try database.ledgerOutcome(id) == nil) }
    }

    @Test("401: a bad signature or missing headers, and nothing is written")
    func unauthorized() throws {
        let user = "user_" + uniqueToken()
        let reply = try post(ClerkPayload.user(id: user, email: nil, updatedAt: 1), tamper: true)
        #expect(reply.status == 401)
        #expect(reply.body == #"{"error":"Invalid signature"}"#)
        #expect(try curl(["-X", "POST"], body: ClerkPayload.user(id: user, email: nil, updatedAt: 1)).status == 401)
        #expect(try database.user(user) == nil)
    }

    @Test("405: only POST reaches the webhook", arguments: ["GET", "PUT", "DELETE", "PATCH"])
    func methodNotAllowed(method: String) throws {
        let reply = try curl(["-X", method])
        #expect(reply.status == 405)
        #expect(reply.headers.contains("Allow: POST"))
    }

    @Test("413: a body over 1 MiB is refused before the webhook runs")
    func tooLarge() throws {
        let reply = try post([UInt8](repeating: UInt8(ascii: " "), count: (1 << 20) + 1))
        #expect(reply.status == 413)
        #expect(reply.body.contains("Payload too large"))
    }

    @Test("404: other paths")
    func notFound() throws {
        let other = url.replacingOccurrences(of: "/functions/v1/clerk-webhook", with: "/functions/v1/other")
        #expect(try curl([], url: other).status == 404)
    }

    @Test("the log has one line per delivery, without secret, signature, email or name")
    func logsAreClean() throws {
        let user = "user_" + uniqueToken()
        let email = "log-\(user)@example.com"
        let id = "msg_" + uniqueToken()
        #expect(
            try post(ClerkPayload.user(id: user, email: email, first: "Lognamefirst", updatedAt: 1), id: id).status
                == 200)
        let log = try String(contentsOfFile: TestEnvironment.value("CLERK_WEBHOOK_TEST_LOG"), encoding: .utf8)
        let line = log.split(separator: "\n").first { $0.contains(id) }
        #expect(line?.contains(#""outcome":"applied""#) == true)
        #expect(line?.contains(user) == true)
        for forbidden in [email, "Lognamefirst", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "v1,"] {
            #expect(!log.contains(forbidden), "log contains \(forbidden)")
        }
    }
}

extension TestDatabase {
    /// Connects to an existing database by name.
    init(existing name: String) throws {
        url = try TestDatabase.url(name)
        connection = try PostgresConnection(url: url)
    }
}
