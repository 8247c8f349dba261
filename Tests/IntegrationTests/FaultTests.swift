import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

/// What one delivery through the release binary (CGI mode) answered.
struct CGIAnswer {
    var status: Int
    var output: String
    var log: String
    var exitStatus: Int32

    var hasRetryAfter: Bool { output.contains("\r\nRetry-After: ") }

    /// Signs `body` now and runs the binary once as fcgiwrap would.
    init(_ body: [UInt8], id: String, databaseURL: String?, environment extra: [String: String] = [:]) throws {
        let now = Int64(Date().timeIntervalSince1970)
        var environment = [
            "REQUEST_METHOD": "POST", "CONTENT_LENGTH": String(body.count), "GATEWAY_INTERFACE": "CGI/1.1",
            "HTTP_SVIX_ID": id, "HTTP_SVIX_TIMESTAMP": String(now),
            "HTTP_SVIX_SIGNATURE": TestEnvironment.signer.signature(id: id, timestamp: now, body: body),
            "CLERK_WEBHOOK_SIGNING_SECRET": TestEnvironment.secret,
        ]
        environment["DATABASE_URL"] = databaseURL
        environment.merge(extra) { _, new in new }
        let run = try ProcessRun(
            try TestEnvironment.value("CLERK_WEBHOOK_TEST_BINARY"), environment: environment, stdin: body)
        status = Int(run.stdout.dropFirst("Status: ".count).prefix(3)) ?? -1
        output = run.stdout
        log = run.stderr
        exitStatus = run.status
    }
}

/// The database goes away, is slow, or is locked: every delivery still answers in bounded time,
/// with 503 + Retry-After for what a retry can fix, nothing is half-applied, and redelivery (what
/// Svix does for ~27 h) applies every event exactly once.
@Suite struct FaultTests {
    /// Stops or starts the fault tests' own cluster; returns pg_ctl's exit status.
    @discardableResult
    static func pgControl(_ action: String) throws -> Int32 {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/pg-control.sh").path
        let run = try ProcessRun(
            script,
            [
                action, try TestEnvironment.value("CLERK_WEBHOOK_TEST_FAULT_DATA"),
                try TestEnvironment.value("CLERK_WEBHOOK_TEST_FAULT_SOCKETS"),
            ],
            environment: ["PATH": "/usr/bin:/bin"])
        return run.status
    }

    @Test("PostgreSQL stopped mid-run, then restarted: 503 + Retry-After, nothing half-applied, then every event once")
    func outage() throws {
        let name = try TestEnvironment.value("CLERK_WEBHOOK_TEST_FAULT_DATABASE")
        let url =
            "postgresql:///\(name)?host=\(try TestEnvironment.value("CLERK_WEBHOOK_TEST_FAULT_SOCKETS"))&user=postgres"
        let t = uniqueToken()
        // 50 users, each created then updated: 100 events with their own svix ids.
        let users = (0..<50).map { "user_\(t)_\($0)" }
        let events: [(id: String, body: [UInt8])] =
            users.map {
                ("msg_\($0)_c", ClerkPayload.user(id: $0, email: "a-\($0)@example.com", first: "A", updatedAt: 1))
            }
            + users.map {
                (
                    "msg_\($0)_u",
                    ClerkPayload.user("user.updated", id: $0, email: "b-\($0)@example.com", first: "B", updatedAt: 2)
                )
            }

        // The stop runs on its own thread while deliveries keep arriving, so some are in flight.
        var answers: [CGIAnswer] = []
        let stopped = LockedCounter()
        let stopFailures = LockedCounter()
        for (index, event) in events.enumerated() {
            if index == 10 {
                Thread {
                    if (try? Self.pgControl("stop")) != 0 { stopFailures.increment() }
                    stopped.increment()
                }.start()
            }
            answers.append(try CGIAnswer(event.body, id: event.id, databaseURL: url))
        }
        while stopped.value == 0 { Thread.sleep(forTimeInterval: 0.01) }
        #expect(stopFailures.value == 0, "pg-control.sh stop failed")
        #expect(try Self.pgControl("start") == 0)

        #expect(answers.allSatisfy { $0.exitStatus == 0 })
        #expect(answers.allSatisfy { $0.status == 200 || $0.status == 503 }, "\(answers.map(\.status))")
        let failed = answers.indices.filter { answers[$0].status != 200 }
        #expect(failed.count >= 5, "the outage should have failed several deliveries")
        #expect(failed.allSatisfy { answers[$0].hasRetryAfter })
        #expect(failed.allSatisfy { !answers[$0].log.contains("@example.com") })

        // Nothing half-applied: every ledger entry's change is in its row, every row change has its entry.
        let database = try TestDatabase(url: url)
        let orphans = try database.query(
            """
            SELECT count(*) FROM clerk_webhook.deliveries d LEFT JOIN public.users u ON u.clerk_id = d.clerk_id
            WHERE d.svix_id LIKE $1 AND (u.id IS NULL OR u.clerk_updated_at_ms < d.event_updated_at_ms)
            """, "msg_user_\(t)_%")
        let unexplained = try database.query(
            """
            SELECT count(*) FROM public.users u WHERE u.clerk_id LIKE $1 AND NOT EXISTS (
              SELECT 1 FROM clerk_webhook.deliveries d
              WHERE d.clerk_id = u.clerk_id AND d.event_updated_at_ms = u.clerk_updated_at_ms)
            """, "user_\(t)_%")
        #expect(orphans == [["0"]] && unexplained == [["0"]])
        for index in answers.indices where answers[index].status == 200 {
            #expect(try database.ledgerOutcome(events[index].id) != nil)
        }

        // Svix redelivers what failed (and, at least once, some that did not): all 200 now.
        let again = try failed.map { try CGIAnswer(events[$0].body, id: events[$0].id, databaseURL: url) }
        #expect(again.map(\.status) == Array(repeating: 200, count: failed.count))
        let repeats = try (0..<5).map { try CGIAnswer(events[$0].body, id: events[$0].id, databaseURL: url) }
        #expect(repeats.allSatisfy { $0.output.hasSuffix(#""outcome":"duplicate"}"#) })

        for user in users {
            #expect(try database.user(user) == UserRow(email: "b-\(user)@example.com", name: "B", clerkUpdatedAt: 2))
        }
        let ledger = try database.query(
            "SELECT count(*), count(DISTINCT svix_id) FROM clerk_webhook.deliveries WHERE svix_id LIKE $1",
            "msg_user_\(t)_%")
        #expect(ledger == [["100", "100"]])
        print(
            "outage: 100 events, \(failed.count) answered 503 while PostgreSQL was down, all 100 applied once after restart"
        )
    }

    @Test(
        "a row locked by another session: the wait is bounded (lock_timeout 5 s, or the statement timeout), 503",
        arguments: TestDatabase.routes)
    func lockedRow(route: String) throws {
        let database = try TestDatabase()
        // Through a transaction-mode pooler the statement timeout's cancel request goes to PgBouncer,
        // which must pass it to the server connection running the delivery.
        let url = try database.url(via: route)
        let user = "user_" + uniqueToken()
        let webhook = try Deliverer(databaseURL: database.url)
        #expect(
            webhook.deliver(ClerkPayload.user(id: user, email: nil, first: "Old", updatedAt: 1)) == .accepted(.applied))

        let holder = try database.holdRowLock(user)

        let update = ClerkPayload.user("user.updated", id: user, email: nil, first: "New", updatedAt: 2)
        let started = Date()
        let locked = try CGIAnswer(update, id: "msg_lock_\(user)", databaseURL: url)
        let lockWait = Date().timeIntervalSince(started)
        #expect(locked.status == 503 && locked.hasRetryAfter, "\(locked.output)")
        #expect(locked.log.contains(#""db.sqlstate":"55P03""#), "\(locked.log)")

        let timedStart = Date()
        let timedOut = try CGIAnswer(
            update, id: "msg_lock_\(user)", databaseURL: url,
            environment: ["CLERK_WEBHOOK_STATEMENT_TIMEOUT_MS": "1000"])
        let timeoutWait = Date().timeIntervalSince(timedStart)
        #expect(timedOut.status == 503 && timedOut.hasRetryAfter)
        #expect(timedOut.log.contains(#""db.sqlstate":"57014""#), "\(timedOut.log)")

        // Nothing applied, nothing in the ledger: the redelivery after the lock is gone applies it.
        #expect(try database.user(user)?.name == "Old")
        #expect(try database.ledgerOutcome("msg_lock_\(user)") == nil)
        try holder.execute(PlannedStatement(sql: "ROLLBACK", parameters: []))
        let retried = try CGIAnswer(update, id: "msg_lock_\(user)", databaseURL: url)
        #expect(retried.status == 200)
        #expect(try database.user(user)?.name == "New")
        print(
            "locked row (\(route)): lock_timeout answered 503 after \(String(format: "%.1f", lockWait)) s, "
                + "statement timeout (1 s) after \(String(format: "%.1f", timeoutWait)) s; redelivery applied once")
    }

    @Test("a slow statement is cancelled at CLERK_WEBHOOK_STATEMENT_TIMEOUT_MS and rolled back")
    func slowStatement() throws {
        let database = try TestDatabase()
        // The ledger locked by another session: the delivery's first write waits behind it.
        let holder = try PostgresConnection(url: database.url)
        try holder.execute(PlannedStatement(sql: "BEGIN", parameters: []))
        try holder.execute(
            PlannedStatement(sql: "LOCK TABLE clerk_webhook.deliveries IN ACCESS EXCLUSIVE MODE", parameters: []))
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: nil, first: "Slow", updatedAt: 1)
        let answer = try CGIAnswer(
            body, id: "msg_slow_\(user)", databaseURL: database.url,
            environment: ["CLERK_WEBHOOK_STATEMENT_TIMEOUT_MS": "500"])
        #expect(answer.status == 503 && answer.hasRetryAfter)
        #expect(answer.log.contains(#""db.sqlstate":"57014""#), "\(answer.log)")
        try holder.execute(PlannedStatement(sql: "ROLLBACK", parameters: []))
        #expect(try database.user(user) == nil)
        #expect(try CGIAnswer(body, id: "msg_slow_\(user)", databaseURL: database.url).status == 200)
        #expect(try database.user(user)?.name == "Slow")
    }
}
