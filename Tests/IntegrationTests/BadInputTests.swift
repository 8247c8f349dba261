import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

/// One case of Tests/BadInputCorpus/*.json (see generate.py there for the format).
struct CorpusCase: Decodable, Sendable {
    struct Repeat: Decodable, Sendable {
        var prefix: String
        var unit: String
        var count: Int
        var separator: String?
        var suffix: String
        var total: Int?
    }

    var name: String
    var method: String?
    var headers: [[String]]?
    var body: String?
    var bodyBase64: String?
    var bodyRepeat: Repeat?
    var expect: Int
    var expectNginx: Int?
    var row: [String: String]?
    var signOver: String?

    enum CodingKeys: String, CodingKey {
        case name, method, headers, body, expect, row
        case bodyBase64 = "body_base64"
        case bodyRepeat = "body_repeat"
        case expectNginx = "expect_nginx"
        case signOver = "sign_over"
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("BadInputCorpus")

    /// The current Unix second to sign this case with. A timestamp just outside the ±300 s
    /// tolerance ("{now+301}") is 1 s from inside it: when such a case's second is more than half
    /// over, this waits for the next one, so a slow run cannot carry the request across a second
    /// boundary (and into the tolerance) before the binary reads its clock.
    func currentSecond() -> Int64 {
        let nearEdge = (headers ?? []).joined().contains { $0.contains("{now+") || $0.contains("{now-") }
        let time = Date().timeIntervalSince1970
        if nearEdge && time - time.rounded(.down) > 0.5 {
            Thread.sleep(forTimeInterval: time.rounded(.up) - time + 0.001)
            return Int64(Date().timeIntervalSince1970)
        }
        return Int64(time)
    }

    /// Every case of every corpus file, in file-name order.
    static func all() throws -> [CorpusCase] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
        return try files.sorted().flatMap { file in
            try JSONDecoder().decode([CorpusCase].self, from: Data(contentsOf: directory.appendingPathComponent(file)))
        }
    }
}

/// A corpus case made concrete for one send: fresh ids, the current time, real signatures.
struct CorpusRequest {
    var method: String
    var headers: [(String, String)]
    var body: [UInt8]
    var userID: String
    var svixID: String
    var row: [String: String]?

    static let otherSigner = try! SignatureVerifier(
        secrets: "whsec_" + String(repeating: "A", count: 43) + "=", variable: "other", crypto: OpenSSLCrypto())

    init(_ entry: CorpusCase, now: Int64) throws {
        userID = "user_" + (uniqueToken() + uniqueToken()).prefix(24)
        svixID = "msg_corpus_" + uniqueToken()
        method = entry.method ?? "POST"
        let expand = { [userID] (text: String) in
            Self.expandRepeats(
                text.replacingOccurrences(of: "{uemail}", with: "\(userID)@example.com")
                    .replacingOccurrences(of: "{uid}", with: userID))
        }
        if let text = entry.body {
            body = Array(expand(text).utf8)
        } else if let encoded = entry.bodyBase64 {
            body = Array(Data(base64Encoded: encoded)!)
        } else if let spec = entry.bodyRepeat {
            let prefix = expand(spec.prefix)
            let suffix = expand(spec.suffix)
            var count = spec.count
            if let total = spec.total { count = total - prefix.utf8.count - suffix.utf8.count }
            let units = (0..<count).map { expand(spec.unit.replacingOccurrences(of: "{n}", with: String($0))) }
            body = Array((prefix + units.joined(separator: spec.separator ?? "") + suffix).utf8)
        } else {
            body = ClerkPayload.user(id: userID, email: "\(userID)@example.com", first: "Ada", updatedAt: 1)
        }
        row = entry.row.map { $0.mapValues(expand) }

        let template =
            entry.headers ?? [["svix-id", "{id}"], ["svix-timestamp", "{now}"], ["svix-signature", "v1,{sig}"]]
        var filled = template.map { [svixID] pair in
            (pair[0], Self.expandTime(Self.expandRepeats(pair[1].replacingOccurrences(of: "{id}", with: svixID)), now))
        }
        // Sign over what the binary will read: the svix-* header, else its webhook-* twin, trimmed.
        let order = entry.signOver == "webhook" ? ["webhook-", "svix-"] : ["svix-", "webhook-"]
        let id = Self.sent("id", in: filled, order: order) ?? ""
        let timestamp = Self.sent("timestamp", in: filled, order: order).flatMap { Int64($0) } ?? now
        let signature = String(TestEnvironment.signer.signature(id: id, timestamp: timestamp, body: body).dropFirst(3))
        let other = String(Self.otherSigner.signature(id: id, timestamp: timestamp, body: body).dropFirst(3))
        filled = filled.map { name, value in
            (
                name,
                value.replacingOccurrences(of: "{sig-other}", with: other).replacingOccurrences(
                    of: "{sig}", with: signature)
            )
        }
        headers = filled
    }

    static func sent(_ name: String, in filled: [(String, String)], order: [String]) -> String? {
        for prefix in order {
            if let value = filled.first(where: { $0.0.lowercased() == prefix + name })?.1 {
                let trimmed = value.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
                if !trimmed.isEmpty { return trimmed }
            }
        }
        return nil
    }

    /// `{repeat:TEXT:N}` → TEXT repeated N times.
    static func expandRepeats(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "{repeat:") {
            out += rest[..<start.lowerBound]
            let tail = rest[start.upperBound...]
            guard let close = tail.firstIndex(of: "}"), let colon = tail[..<close].lastIndex(of: ":"),
                let count = Int(tail[tail.index(after: colon)..<close])
            else {
                out += "{repeat:"
                rest = tail
                continue
            }
            out += String(repeating: String(tail[..<colon]), count: count)
            rest = tail[tail.index(after: close)...]
        }
        return out + rest
    }

    /// `{now}`, `{now+N}`, `{now-N}` → Unix seconds.
    static func expandTime(_ text: String, _ now: Int64) -> String {
        var out = text.replacingOccurrences(of: "{now}", with: String(now))
        while let start = out.range(of: "{now"), let close = out[start.upperBound...].firstIndex(of: "}"),
            let offset = Int64(out[start.upperBound..<close])
        {
            out.replaceSubrange(start.lowerBound...close, with: String(now + offset))
        }
        return out
    }

    /// The CGI environment fcgiwrap would build (repeated headers joined with ", ", as HTTP merges them).
    var cgiEnvironment: [String: String] {
        var environment = ["REQUEST_METHOD": method, "GATEWAY_INTERFACE": "CGI/1.1"]
        if method == "POST" { environment["CONTENT_LENGTH"] = String(body.count) }
        for (name, value) in headers {
            let key = "HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
            environment[key] = environment[key].map { $0 + ", " + value } ?? value
        }
        return environment
    }
}

/// The bad-input corpus, each case sent twice: straight into the release binary as a CGI program
/// (exact bytes, even what nginx would refuse), and through nginx + fcgiwrap with curl. Every case
/// must get its contract status — 4xx for bad input, never a 5xx or a crash — and leave the users
/// table and the ledger byte-for-byte unchanged unless it was accepted.
@Suite struct BadInputTests {
    func checkRow(_ request: CorpusRequest, in database: TestDatabase, _ context: String) throws -> Bool {
        guard let expected = request.row else { return true }
        let row = try database.user(request.userID)
        let ok = row != nil && row?.name == expected["name"] && row?.email == expected["email"]
        #expect(ok, "\(context): row \(row?.description.prefix(200) ?? "missing")")
        return ok
    }

    @Test("every corpus case gets its contract status and changes nothing it should not")
    func corpus() throws {
        let cases = try CorpusCase.all()
        #expect(cases.count >= 200)
        let binary = try TestEnvironment.value("CLERK_WEBHOOK_TEST_BINARY")
        let database = try TestDatabase()
        let shared = try TestDatabase(existing: TestEnvironment.value("CLERK_WEBHOOK_TEST_E2E_DATABASE"))
        guard let cgi = Deployment.all.first(where: { $0.mode == "cgi" }) else {
            Issue.record("no cgi deployment")
            return
        }
        var failures: [String] = []
        var requests = 0
        for entry in cases {
            // 1. Straight into the binary, on its own database: exact status, no crash, nothing changed.
            let direct = try CorpusRequest(entry, now: entry.currentSecond())
            let before = try database.dump()
            var environment = direct.cgiEnvironment
            environment["CLERK_WEBHOOK_SIGNING_SECRET"] = TestEnvironment.secret
            environment["DATABASE_URL"] = database.url
            let run = try ProcessRun(binary, environment: environment, stdin: direct.body)
            requests += 1
            let status = Int(run.stdout.dropFirst("Status: ".count).prefix(3)) ?? -1
            var ok = run.status == 0 && status == entry.expect
            #expect(ok, "direct \(entry.name): status \(status), exit \(run.status)")
            if entry.expect == 200 {
                ok = try checkRow(direct, in: database, "direct \(entry.name)") && ok
            } else {
                let unchanged = try database.dump() == before
                #expect(unchanged, "direct \(entry.name): the database changed")
                ok = ok && unchanged
            }

            // 2. Through nginx and fcgiwrap, with curl.
            let viaNginx = try CorpusRequest(entry, now: entry.currentSecond())
            let (reply, contentType) = try sendThroughNginx(viaNginx, url: cgi.url)
            requests += 1
            let expected = entry.expectNginx ?? entry.expect
            // nginx's own refusals too (oversized headers) answer in the webhook's JSON.
            let nginxOK = reply == expected && contentType == "application/json"
            #expect(nginxOK, "nginx \(entry.name): status \(reply) (\(contentType)), expected \(expected)")
            ok = ok && nginxOK
            if expected == 200 {
                ok = try checkRow(viaNginx, in: shared, "nginx \(entry.name)") && ok
            } else {
                let users = try shared.query("SELECT count(*) FROM public.users WHERE clerk_id = $1", viaNginx.userID)
                let ledger = try shared.query(
                    "SELECT count(*) FROM clerk_webhook.deliveries WHERE svix_id = $1", viaNginx.svixID)
                let untouched = users == [["0"]] && ledger == [["0"]]
                #expect(untouched, "nginx \(entry.name): a row or ledger entry appeared")
                ok = ok && untouched
            }
            if !ok { failures.append(entry.name) }
        }
        print("bad-input corpus: \(cases.count) cases, \(requests) requests, \(failures.count) failures")
    }

    /// POSTs (or sends with another method) through nginx; returns the HTTP status and Content-Type.
    func sendThroughNginx(_ request: CorpusRequest, url: String) throws -> (Int, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-" + uniqueToken())
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Headers from a file: values too long for one argument, and "name;" sends an empty value.
        let headerFile = directory.appendingPathComponent("headers")
        let lines = request.headers.map { name, value in value.isEmpty ? "\(name);" : "\(name): \(value)" }
        try Data((lines + ["Expect:", "Content-Type: application/json"]).joined(separator: "\n").utf8).write(
            to: headerFile)
        var arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code} %{content_type}", "-H", "@" + headerFile.path]
        switch request.method {
        case "HEAD": arguments.append("--head")
        case "POST":
            let bodyFile = directory.appendingPathComponent("body")
            try Data(request.body).write(to: bodyFile)
            arguments += ["--data-binary", "@" + bodyFile.path]
        default: arguments += ["-X", request.method]
        }
        let run = try ProcessRun("/usr/bin/curl", arguments + [url], environment: ["PATH": "/usr/bin:/bin"])
        let words = run.stdout.split(separator: " ", maxSplits: 1).map(String.init)
        return (Int(words.first ?? "") ?? -1, words.count > 1 ? words[1] : "")
    }
}
