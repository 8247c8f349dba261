import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What Svix sees when a deployment's parts fail around the webhook rather than in it.
@Suite struct DeploymentFaultTests {
    @Test(
        "no worker behind nginx: 503 + Retry-After, nothing written; redelivered once they run: applied",
        arguments: ["cgi", "warm", "persistent"])
    func workersDown(mode: String) throws {
        // nginx up, its workers not (not started yet, restarting, stopped): the webhook's own
        // retryable answer, 503 with Retry-After in JSON, not nginx's HTML 502 page.
        let database = try TestDatabase()
        let deployment = try StandaloneDeployment(mode: mode, databaseURL: database.url)

        // 1. Nothing listens on the socket yet (no file).
        let user = "user_" + uniqueToken()
        let id = "msg_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: "outage-\(user)@example.com", first: "Ada", updatedAt: 7)
        try expectUnavailable(try signedPost(body, url: deployment.base, id: id))
        try expectUnavailable(try curl([], url: deployment.base + "/health"))
        #expect(try database.user(user) == nil)
        #expect(try database.ledgerOutcome(id) == nil)

        // 2. The workers start; Svix's redelivery of the same message is applied.
        try deployment.startWorkers()
        let redelivered = try signedPost(body, url: deployment.base, id: id)
        #expect(redelivered.status == 200)
        #expect(redelivered.body == #"{"ok":true,"outcome":"applied"}"#)
        #expect(try database.user(user) == UserRow(email: "outage-\(user)@example.com", name: "Ada", clerkUpdatedAt: 7))

        // 3. The workers stop (a socket file may be left behind, refusing connections).
        try deployment.stopWorkers()
        let later = "msg_" + uniqueToken()
        try expectUnavailable(try signedPost(ClerkPayload.deleted(id: user), url: deployment.base, id: later))
        #expect(try database.ledgerOutcome(later) == nil)
        #expect(try database.user(user)?.deleted == false)
    }

    @Test(
        "the server closed the workers' connections (restart, idle timeout, pooler): the next deliveries still 200",
        arguments: ["cgi", "warm", "persistent"])
    func connectionsClosedByServer(mode: String) throws {
        // Warm workers connect before their request arrives and persistent ones keep their
        // connection; either may find it closed by the server since. That is no reason for a 503.
        let database = try TestDatabase()
        let deployment = try StandaloneDeployment(mode: mode, databaseURL: database.url)
        try deployment.startWorkers()
        let user = "user_" + uniqueToken()
        for round in 1...3 {
            // Every connection the workers hold now (the health checks and deliveries so far),
            // closed by the server; a backend is gone from pg_stat_activity once it said goodbye.
            let pids = try database.otherClients()
            if mode != "cgi" { #expect(!pids.isEmpty, "round \(round): no worker held a connection") }
            #expect(try database.terminate(pids), "round \(round): the terminated backends lingered")
            // Both workers' turn comes within these (each warm worker serves one and is replaced).
            for step in 0..<4 {
                let body = ClerkPayload.user(
                    "user.updated", id: user, email: nil, first: "R\(round)S\(step)",
                    updatedAt: Int64(round * 10 + step))
                let reply = try signedPost(body, url: deployment.base)
                #expect(reply.status == 200, "round \(round), delivery \(step): \(reply.status) \(reply.body)")
            }
        }
        #expect(try database.user(user)?.name == "R3S3")
        #expect(!deployment.log.contains("retryable-error"), "\(deployment.log)")
    }

    @Test(
        "the sender gives up while the delivery waits (Svix's 15 s): it still completes, and the worker lives on",
        arguments: ["cgi", "warm", "persistent"])
    func senderGivesUp(mode: String) throws {
        let (database, deployment, user) = try userInRunningDeployment(mode: mode)
        let workersBefore = deployment.workerProcesses()

        // Another session holds the row: the update waits inside PostgreSQL while curl gives up.
        let holder = try database.holdRowLock(user)
        let (id, updated) = ("msg_" + uniqueToken(), Self.update(user))
        let gaveUp = try signedPost(
            updated, url: deployment.base, id: id, extra: ["--max-time", "1", "--no-show-error"])
        #expect(gaveUp.status == 0, "curl did not give up: \(gaveUp.status)")
        try holder.execute(PlannedStatement(sql: "ROLLBACK", parameters: []))
        #expect(waitUntil(seconds: 10) { (try? database.ledgerOutcome(id)) == "applied" }, "\(deployment.log)")
        #expect(try database.user(user)?.name == "After")
        // The next deliveries are answered, by the same workers in persistent mode.
        Thread.sleep(forTimeInterval: 0.5)
        try expectLaterUpdatesApplied(user, deployment, database)
        if mode == "persistent" {
            #expect(deployment.workerProcesses() == workersBefore, "a worker died: \(deployment.log)")
        }
        #expect(!deployment.log.contains("signal"), "\(deployment.log)")
    }

    @Test(
        "a worker killed mid-delivery (the OOM killer, a crash): 503 + Retry-After, and the redelivery is 200",
        arguments: ["cgi", "warm", "persistent"])
    func workerKilled(mode: String) throws {
        // Under fcgiwrap a CGI program that dies without answering makes fcgiwrap's own text 502;
        // under spawn-fcgi nginx sees the connection close. Either way Svix gets the webhook's 503.
        let (database, deployment, user) = try userInRunningDeployment(mode: mode)

        // The delivery waits for a row lock while its worker is killed.
        let holder = try database.holdRowLock(user)
        let (id, updated, url) = ("msg_" + uniqueToken(), Self.update(user), deployment.base)
        let answer = Locked<HTTPReply?>(nil)
        let sender = Thread { answer.set(try? signedPost(updated, url: url, id: id)) }
        sender.start()
        #expect(waitUntil(seconds: 5) { (try? database.lockWaiters()) == "1" }, "no delivery waited")
        let killed = deployment.workerProcesses()
        #expect(!killed.isEmpty)
        for pid in killed { kill(pid, SIGKILL) }
        #expect(waitUntil(seconds: 10) { sender.isFinished }, "no answer after the worker died")
        try expectUnavailable(try #require(answer.get()))
        try holder.execute(PlannedStatement(sql: "ROLLBACK", parameters: []))

        // Svix redelivers; whether the killed worker's statement committed or not, the row ends right.
        #expect(
            waitUntil(seconds: 10) { (try? signedPost(updated, url: deployment.base, id: id))?.status == 200 },
            "\(deployment.log)")
        #expect(try database.user(user) == UserRow(email: nil, name: "After", clerkUpdatedAt: 2))
        #expect(try database.ledgerOutcome(id) == "applied")
        try expectLaterUpdatesApplied(user, deployment, database)
    }

    @Test(
        "CGI mode with the program missing or not executable: 503 + Retry-After; once installed, the redelivery is 200")
    func programMissing() throws {
        // fcgiwrap answers its own text 403 when SCRIPT_FILENAME names no executable file (a
        // deployment that has not put the binary in place yet, or lost its x bit): an operator's
        // fix and Svix's redelivery make it right, so the webhook's 503, like for a missing fcgiwrap.
        let database = try TestDatabase()
        let deployment = try StandaloneDeployment(mode: "cgi", databaseURL: database.url, missingBinary: true)
        try deployment.startWorkers(healthy: false)
        let user = "user_" + uniqueToken()
        let id = "msg_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: nil, first: "Installed", updatedAt: 3)
        try expectUnavailable(try signedPost(body, url: deployment.base, id: id))
        try expectUnavailable(try curl([], url: deployment.base + "/health"))

        // The file is there but not executable.
        let directory = (deployment.binary as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: try TestEnvironment.value("CLERK_WEBHOOK_TEST_IMAGE_ROOT") + "/bin/clerk-webhook",
            toPath: deployment.binary)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: deployment.binary)
        try expectUnavailable(try signedPost(body, url: deployment.base, id: id))
        #expect(try database.user(user) == nil)
        #expect(try database.ledgerOutcome(id) == nil)

        // Installed: the same message, redelivered, is applied.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: deployment.binary)
        let redelivered = try signedPost(body, url: deployment.base, id: id)
        #expect(redelivered.status == 200, "\(redelivered.status) \(redelivered.body)")
        #expect(try database.user(user) == UserRow(email: nil, name: "Installed", clerkUpdatedAt: 3))
        #expect(try curl([], url: deployment.base + "/health").status == 200)
    }

    /// A running deployment of `mode` whose database has one user, named "Before" at updated_at 1.
    func userInRunningDeployment(mode: String) throws -> (TestDatabase, StandaloneDeployment, String) {
        let database = try TestDatabase()
        let deployment = try StandaloneDeployment(mode: mode, databaseURL: database.url)
        try deployment.startWorkers()
        let user = "user_" + uniqueToken()
        #expect(
            try signedPost(ClerkPayload.user(id: user, email: nil, first: "Before", updatedAt: 1), url: deployment.base)
                .status == 200)
        return (database, deployment, user)
    }

    /// The update the lock tests hold up: "After" at updated_at 2.
    static func update(_ user: String) -> [UInt8] {
        ClerkPayload.user("user.updated", id: user, email: nil, first: "After", updatedAt: 2)
    }

    /// After the held-up delivery, the next updates are answered 200 and applied.
    func expectLaterUpdatesApplied(_ user: String, _ deployment: StandaloneDeployment, _ database: TestDatabase) throws
    {
        for stamp in Int64(3)...6 {
            let next = ClerkPayload.user("user.updated", id: user, email: nil, first: "N\(stamp)", updatedAt: stamp)
            #expect(try signedPost(next, url: deployment.base).status == 200)
        }
        #expect(try database.user(user)?.name == "N6")
    }
}
