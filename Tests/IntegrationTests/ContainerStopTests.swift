import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// scripts/container-start.sh, the image's CMD, stopped the way `docker stop` stops it: SIGTERM
/// while a delivery is in flight. nginx must stop taking connections but finish what it holds, and
/// the workers must outlive it, so that delivery still gets its 200 (not a 503 and a redelivery).
@Suite struct ContainerStopTests {
    @Test(
        "SIGTERM mid-delivery: that delivery still answers 200 and is applied, then everything stops",
        arguments: ["cgi", "warm", "persistent"])
    func termFinishesTheDeliveryInFlight(mode: String) throws {
        let database = try TestDatabase()
        let (root, state) = try Self.imageRootAndState()
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer {
            // What the stack printed stays for scripts/test.sh's scan for secrets and personal data.
            if let logs = ProcessInfo.processInfo.environment["CLERK_WEBHOOK_TEST_LOG_DIR"] {
                try? FileManager.default.copyItem(
                    atPath: state + "/out.log", toPath: logs + "/container-stop-\(mode)-\(uniqueToken()).out")
            }
            try? FileManager.default.removeItem(atPath: state)
        }
        let command = try asRunUser(
            ["/bin/sh", "-c", #"exec "$0" >"$1" 2>&1"#, root + "/bin/container-start.sh", state + "/out.log"],
            owning: [state])
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)/functions/v1/clerk-webhook"
        let environment = Self.environment(root: root, state: state, listen: "127.0.0.1:\(port)").merging([
            "DATABASE_URL": database.url, "CLERK_WEBHOOK_MODE": mode, "CLERK_WEBHOOK_WORKERS": "2",
        ]) { $1 }
        let entryPoint = try SpawnedProcess(command[0], Array(command.dropFirst()), environment: environment)
        defer { entryPoint.killGroup() }
        let log = { (try? String(contentsOfFile: state + "/out.log", encoding: .utf8)) ?? "" }
        // Polls that expect refused connections keep curl's "Failed to connect" out of the test log.
        let quiet = ["--no-show-error"]
        #expect(waitUntil(seconds: 15) { (try? curl(quiet, url: base + "/health"))?.status == 200 }, "\(log())")
        // The image's HEALTHCHECK, with the same environment: it finds nginx where LISTEN put it.
        let healthCheck = { try ProcessRun(root + "/bin/container-start.sh", ["health"], environment: environment) }
        let healthy = try healthCheck()
        #expect(healthy.status == 0 && healthy.stdout.contains(#""database":"reachable""#), "\(healthy.stderr)")

        let user = "user_" + uniqueToken()
        let created = ClerkPayload.user(id: user, email: nil, first: "Before", updatedAt: 1)
        #expect(try signedPost(created, url: base).status == 200, "\(log())")

        // Another session holds the user's row: the update waits on it inside PostgreSQL.
        let holder = try database.holdRowLock(user)
        let updated = ClerkPayload.user("user.updated", id: user, email: nil, first: "After", updatedAt: 2)
        let answer = Locked<Int?>(nil)
        let sender = Thread { answer.set((try? signedPost(updated, url: base))?.status) }
        sender.start()
        #expect(
            waitUntil(seconds: 10) { (try? database.lockWaiters()) == "1" },
            "the update never reached PostgreSQL: \(log())")

        kill(entryPoint.pid, SIGTERM)
        Thread.sleep(forTimeInterval: 0.5)
        try holder.execute(PlannedStatement(sql: "ROLLBACK", parameters: []))
        #expect(waitUntil(seconds: 10) { sender.isFinished }, "the delivery never got an answer")
        #expect(answer.get() == 200, "\(log())")
        #expect(try database.user(user)?.name == "After")
        #expect(waitUntil(seconds: 10) { entryPoint.hasExited() }, "the entry point did not stop: \(log())")
        #expect((try? curl(quiet + ["--max-time", "2"], url: base + "/health"))?.status != 200, "nginx outlived it")
        #expect(try healthCheck().status != 0, "the health check passed with nothing running")
    }

    @Test(
        "CLERK_WEBHOOK_LISTEN that is not a TCP port or address: exit 2 with a clear message, nothing started",
        arguments: ["unix:/tmp/clerk-webhook.sock", "0", "65536", "localhost", "127.0.0.1:", "8080 reuseport"])
    func unusableListenAddress(listen: String) throws {
        let (root, state) = try Self.imageRootAndState()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let environment = Self.environment(root: root, state: state, listen: listen)
        for arguments in [[], ["health"]] {
            let run = try ProcessRun(root + "/bin/container-start.sh", arguments, environment: environment)
            #expect(run.status == 2, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains("CLERK_WEBHOOK_LISTEN must be PORT, ADDRESS:PORT or [IPv6]:PORT"))
            #expect(!FileManager.default.fileExists(atPath: state), "it started setting up")
        }
    }

    /// The image's layout that scripts/test.sh staged, and a new state directory's path for one run.
    static func imageRootAndState() throws -> (root: String, state: String) {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("container-" + uniqueToken()).path
        return (try TestEnvironment.value("CLERK_WEBHOOK_TEST_IMAGE_ROOT"), state)
    }

    /// The entry point's environment as the image sets it, with the staged layout's paths.
    static func environment(root: String, state: String, listen: String) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "CLERK_WEBHOOK_SIGNING_SECRET": TestEnvironment.secret,
            "CLERK_WEBHOOK_LISTEN": listen, "CLERK_WEBHOOK_STATE_DIR": state,
            "CLERK_WEBHOOK_BIN_DIR": root + "/bin", "CLERK_WEBHOOK_SHARE_DIR": root + "/share",
        ]
    }
}
