import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// nginx up, its workers not (not started yet, restarting, stopped): what Svix sees must be the
/// webhook's own retryable answer, 503 with Retry-After in JSON, not nginx's HTML 502 page. The
/// delivery it refused is applied when Svix sends it again after the workers are back.
@Suite struct WorkerOutageTests {
    @Test(
        "no worker behind nginx: 503 + Retry-After, nothing written; redelivered once they run: applied",
        arguments: ["cgi", "warm", "persistent"])
    func workersDown(mode: String) throws {
        let database = try TestDatabase()
        let root = try TestEnvironment.value("CLERK_WEBHOOK_TEST_IMAGE_ROOT")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("outage-" + uniqueToken()).path
        try FileManager.default.createDirectory(atPath: state + "/temp", withIntermediateDirectories: true)
        defer {
            // What the workers printed stays for scripts/test.sh's scan for secrets and personal data.
            if let logs = ProcessInfo.processInfo.environment["CLERK_WEBHOOK_TEST_LOG_DIR"] {
                try? FileManager.default.copyItem(
                    atPath: state + "/workers.log", toPath: logs + "/outage-\(mode)-\(uniqueToken()).out")
            }
            try? FileManager.default.removeItem(atPath: state)
        }
        let port = try freePort()
        let socket = state + "/workers.sock"
        let render = root + "/share/nginx/render.sh"
        let site = try ProcessRun(
            render,
            [
                root + "/share/nginx/clerk-webhook.conf.in", "LISTEN=127.0.0.1:\(port)",
                "BINARY=\(root)/bin/clerk-webhook", "FCGI_SOCKET=\(socket)",
            ], environment: ["PATH": "/usr/bin:/bin"])
        let main = try ProcessRun(
            render,
            [
                root + "/share/nginx/standalone.conf.in", "PREFIX=\(state)", "SITE=\(state)/site.conf",
                "ERROR_LOG=\(state)/error.log", "ACCESS_LOG=\(state)/access.log",
            ], environment: ["PATH": "/usr/bin:/bin"])
        #expect(site.status == 0 && main.status == 0, "\(site.stderr)\(main.stderr)")
        try site.stdout.write(toFile: state + "/site.conf", atomically: false, encoding: .utf8)
        try main.stdout.write(toFile: state + "/nginx.conf", atomically: false, encoding: .utf8)

        let nginxCommand = try asRunUser(
            ["/usr/sbin/nginx", "-p", state, "-c", state + "/nginx.conf", "-e", state + "/error.log"],
            owning: [state, state + "/temp", state + "/site.conf", state + "/nginx.conf"])
        let nginx = try SpawnedProcess(
            nginxCommand[0], Array(nginxCommand.dropFirst()), environment: ["PATH": "/usr/bin:/bin"])
        defer { nginx.killGroup() }
        let base = "http://127.0.0.1:\(port)/functions/v1/clerk-webhook"
        let quiet = ["--no-show-error"]
        #expect(
            waitUntil(seconds: 10) { (try? curl(quiet, url: base + "/other"))?.status == 404 }, "nginx never answered")

        // 1. Nothing listens on the socket yet (no file).
        let user = "user_" + uniqueToken()
        let id = "msg_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: "outage-\(user)@example.com", first: "Ada", updatedAt: 7)
        try expectUnavailable(try signedPost(body, url: base, id: id))
        try expectUnavailable(try curl([], url: base + "/health"))
        #expect(try database.user(user) == nil)
        #expect(try database.ledgerOutcome(id) == nil)

        // 2. The workers start; Svix's redelivery of the same message is applied.
        let script = root + "/share/nginx/start-workers.sh"
        let workersCommand = try asRunUser(
            [
                "/bin/sh", "-c", #"exec "$0" "$@" >"$WORKERS_LOG" 2>&1"#, script, mode, socket,
                root + "/bin/clerk-webhook", "2",
            ], owning: [])
        let workers = try SpawnedProcess(
            workersCommand[0], Array(workersCommand.dropFirst()),
            environment: [
                "PATH": "/usr/bin:/bin", "CLERK_WEBHOOK_SIGNING_SECRET": TestEnvironment.secret,
                "DATABASE_URL": database.url, "WORKERS_LOG": state + "/workers.log",
            ])
        defer { workers.killGroup() }
        #expect(
            waitUntil(seconds: 15) { (try? curl(quiet, url: base + "/health"))?.status == 200 },
            "the workers never answered")
        let redelivered = try signedPost(body, url: base, id: id)
        #expect(redelivered.status == 200)
        #expect(redelivered.body == #"{"ok":true,"outcome":"applied"}"#)
        #expect(try database.user(user) == UserRow(email: "outage-\(user)@example.com", name: "Ada", clerkUpdatedAt: 7))

        // 3. The workers stop (a socket file may be left behind, refusing connections).
        kill(workers.pid, SIGTERM)
        #expect(waitUntil(seconds: 10) { workers.hasExited() }, "the workers did not stop on SIGTERM")
        let later = "msg_" + uniqueToken()
        let deleted = ClerkPayload.deleted(id: user)
        try expectUnavailable(try signedPost(deleted, url: base, id: later))
        #expect(try database.ledgerOutcome(later) == nil)
        #expect(try database.user(user)?.deleted == false)
    }

    /// The webhook's retryable answer: 503, Retry-After, a JSON body.
    func expectUnavailable(_ reply: HTTPReply, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let headers = reply.headers.lowercased()
        #expect(reply.status == 503, "\(reply.status) \(reply.body)", sourceLocation: sourceLocation)
        #expect(headers.contains("retry-after: 5"), "\(reply.headers)", sourceLocation: sourceLocation)
        #expect(headers.contains("content-type: application/json"), "\(reply.headers)", sourceLocation: sourceLocation)
        #expect(
            reply.body.trimmingCharacters(in: .whitespacesAndNewlines)
                == #"{"error":"Temporarily unavailable, retry later"}"#, sourceLocation: sourceLocation)
    }
}
