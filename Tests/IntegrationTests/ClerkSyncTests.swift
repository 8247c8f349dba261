import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

/// The release `clerk-sync` binary against real PostgreSQL databases (and, for `send`, the running
/// CGI deployment): what an operator sees (output, exit status) and what it does to the database.
@Suite struct ClerkSyncTests {
    static let migrationsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("supabase/migrations").path

    /// Runs the release clerk-sync with only PATH and the migrations directory set, plus the given
    /// settings and `extra` variables.
    func clerkSync(
        _ arguments: [String], databaseURL: String? = nil, secret: String? = nil, stdin: [UInt8] = [],
        environment extra: [String: String] = [:]
    ) throws -> ProcessRun {
        var environment = ["PATH": "/usr/bin:/bin", "CLERK_SYNC_MIGRATIONS_DIR": Self.migrationsDirectory]
        environment["DATABASE_URL"] = databaseURL
        environment["CLERK_WEBHOOK_SIGNING_SECRET"] = secret
        environment.merge(extra) { _, given in given }
        return try ProcessRun(
            try TestEnvironment.value("CLERK_WEBHOOK_TEST_SYNC_BINARY"), arguments, environment: environment,
            stdin: stdin)
    }

    @Test("a DATABASE_URL_FILE or CLERK_SECRET_KEY_FILE that cannot be read: one line naming it, exit 1")
    func unreadableSettingFiles() throws {
        let missing = "/nonexistent/setting-" + uniqueToken()
        for (arguments, variable) in [
            (["status"], "DATABASE_URL"), (["migrate"], "DATABASE_URL"), (["ensure", "user_x"], "CLERK_SECRET_KEY"),
            (["sign", "fixtures/user.created.json"], "CLERK_WEBHOOK_SIGNING_SECRET"),
        ] {
            let run = try clerkSync(arguments, environment: [variable + "_FILE": missing])
            // status reports on stdout, line by line; the others fail with one line on stderr.
            let output = arguments == ["status"] ? run.stdout : run.stderr
            #expect(run.status == 1, "\(arguments): \(run.stderr)")
            #expect(output.contains("\(variable)_FILE names \(missing), which cannot be read"), "\(output)")
            #expect(output.split(separator: "\n").count == 1, "\(output)")
        }
    }

    @Test(
        "CLERK_SECRET_KEY holding another kind of Clerk key: one line saying which, exit 1, no request made",
        arguments: [
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "webhook signing secret"),
            ("pk_test_Zm9vYmFy", "publishable key"),
        ])
    func wrongKindOfKey(key: String, kind: String) throws {
        let run = try clerkSync(
            ["ensure", "user_x", "--api-url", "http://127.0.0.1:9/v1"], environment: ["CLERK_SECRET_KEY": key])
        #expect(run.status == 1)
        #expect(run.stderr.contains("CLERK_SECRET_KEY holds a \(kind)"), "\(run.stderr)")
        #expect(!run.stderr.contains(key) && !run.stderr.contains("curl"), "\(run.stderr)")
    }

    @Test("migrate applies every file once, records it, and is current the second time")
    func migrate() throws {
        let database = try TestDatabase(migrated: false)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.migrationsDirectory).filter {
            $0.hasSuffix(".sql")
        }
        let first = try clerkSync(["migrate"], databaseURL: database.url)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("applied \(files.count) of \(files.count) migrations"))
        let second = try clerkSync(["migrate"], databaseURL: database.url)
        #expect(second.stdout.contains("migrations are current (\(files.count) applied)"))
        let status = try clerkSync(["migrate", "--status"], databaseURL: database.url)
        #expect(status.stdout.split(separator: "\n").filter { $0.hasPrefix("applied ") }.count == files.count)
        #expect(!status.stdout.contains("pending"))
        #expect(try database.query("SELECT count(*) FROM clerk_webhook.schema_migrations") == [[String(files.count)]])
        // The migrated database takes deliveries.
        let webhook = try Deliverer(databaseURL: database.url)
        #expect(webhook.deliver(ClerkPayload.user(id: "user_m", email: nil, updatedAt: 1)) == .accepted(.applied))
    }

    @Test("two migrate runs at once: both succeed, each file is applied once")
    func concurrentMigrate() async throws {
        let database = try TestDatabase(migrated: false)
        let url = database.url
        async let one = Task { try clerkSync(["migrate"], databaseURL: url) }.value
        async let two = Task { try clerkSync(["migrate"], databaseURL: url) }.value
        let runs = try await [one, two]
        #expect(runs.map(\.status) == [0, 0], "\(runs.map(\.stderr))")
        let counts = try database.query("SELECT count(*), count(DISTINCT version) FROM clerk_webhook.schema_migrations")
        #expect(counts.first?[0] == counts.first?[1])
    }

    @Test("files that supabase db push applied count as applied: migrate runs only the rest")
    func pushedBySupabase() throws {
        let database = try TestDatabase(migrated: false)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.migrationsDirectory)
            .filter { $0.hasSuffix(".sql") }.sorted()
        let (pushed, newer) = (files.dropLast(), files.last ?? "")
        // What the Supabase CLI does: each file, then its version in its own history table.
        for file in pushed {
            try database.connection.run(
                script: try String(contentsOfFile: Self.migrationsDirectory + "/" + file, encoding: .utf8))
        }
        try database.connection.run(
            script: """
                CREATE SCHEMA supabase_migrations;
                CREATE TABLE supabase_migrations.schema_migrations (version text PRIMARY KEY, statements text[], name text);
                """)
        for file in pushed {
            let version = String(file.prefix { $0 != "_" })
            try database.query("INSERT INTO supabase_migrations.schema_migrations (version) VALUES ($1)", version)
        }

        let listed = try clerkSync(["migrate", "--status"], databaseURL: database.url)
        let lines = listed.stdout.split(separator: "\n")
        #expect(
            lines.filter { $0.hasPrefix("applied  by supabase db push  ") }.count == pushed.count, "\(listed.stdout)")
        #expect(lines.last == "pending                       \(newer.dropLast(".sql".count))")
        let before = try clerkSync(["status"], databaseURL: database.url)
        #expect(before.status == 1)
        #expect(
            before.stdout.contains(
                "migrations: \(pushed.count) applied (\(pushed.count) by supabase db push), 1 pending"),
            "\(before.stdout)")

        let run = try clerkSync(["migrate"], databaseURL: database.url)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "applied  \(newer.dropLast(".sql".count))\napplied 1 of \(files.count) migrations\n")
        let after = try clerkSync(["status"], databaseURL: database.url)
        #expect(after.status == 0, "\(after.stdout)")
        #expect(
            after.stdout.contains("migrations: \(files.count) applied (\(pushed.count) by supabase db push), 0 pending")
        )
    }

    @Test("migrate --status lists pending files on an empty database")
    func migrateStatusPending() throws {
        let database = try TestDatabase(migrated: false)
        let run = try clerkSync(["migrate", "--status"], databaseURL: database.url)
        #expect(run.status == 0)
        #expect(run.stdout.contains("pending"))
        #expect(!run.stdout.contains("applied "))
    }

    @Test("commands that need the ledger say to migrate when the database has no clerk-webhook schema")
    func unmigrated() throws {
        let database = try TestDatabase(migrated: false)
        for command in [["events"], ["events", "--failed"], ["replay", "msg_none"], ["prune", "--dry-run"]] {
            let run = try clerkSync(command, databaseURL: database.url)
            #expect(run.status == 1, "\(command)")
            #expect(run.stderr.contains("run clerk-sync migrate"), "\(command): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(command): \(run.stderr)")
        }
    }

    @Test("events lists the ledger; --failed lists signed deliveries that failed; no emails")
    func events() throws {
        let database = try TestDatabase()
        let webhook = try Deliverer(databaseURL: database.url)
        webhook.deliver(ClerkPayload.user(id: "user_ev", email: "ev@example.com", updatedAt: 1), id: "msg_ev_applied")
        webhook.deliver(try repositoryFixture("session.created.json"), id: "msg_ev_ignored")
        webhook.deliver(try repositoryFixture("malformed.missing-data-id.json"), id: "msg_ev_bad")
        let listed = try clerkSync(["events", "--since", "1h"], databaseURL: database.url)
        #expect(listed.status == 0)
        #expect(listed.stdout.contains("msg_ev_applied  user.created  user_ev  applied"))
        #expect(listed.stdout.contains("msg_ev_ignored  session.created"))
        #expect(!listed.stdout.contains("ev@example.com"))
        // Times are UTC and say so, as in the webhook's log lines, whatever the session's TimeZone.
        let newYork = try clerkSync(
            ["events", "--since", "1h"], databaseURL: database.url + "&options=-c%20TimeZone%3DAmerica%2FNew_York")
        let utc = try database.query(
            #"""
            SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') || 'Z'
              FROM clerk_webhook.deliveries WHERE svix_id = 'msg_ev_applied'
            """#)
        let stamp = try #require(utc.first?.first ?? nil)
        #expect(newYork.stdout.contains("\(stamp)  msg_ev_applied"), "\(newYork.stdout)")
        let failed = try clerkSync(["events", "--failed"], databaseURL: database.url)
        #expect(failed.stdout.contains("msg_ev_bad"))
        #expect(failed.stdout.contains("400"))
        #expect(try clerkSync(["events", "--since", "soon"], databaseURL: database.url).status != 0)

        // One user's history, of any age: an update from three days ago is listed with --user only.
        webhook.deliver(
            ClerkPayload.user("user.updated", id: "user_ev", email: "ev@example.com", updatedAt: 2), id: "msg_ev_old")
        webhook.deliver(ClerkPayload.user(id: "user_other", email: nil, updatedAt: 1), id: "msg_ev_other")
        try database.query(
            "UPDATE clerk_webhook.deliveries SET received_at = now() - interval '3 days' WHERE svix_id = 'msg_ev_old'")
        #expect(!(try clerkSync(["events"], databaseURL: database.url).stdout.contains("msg_ev_old")))
        let history = try clerkSync(["events", "--user", "user_ev"], databaseURL: database.url)
        #expect(history.status == 0)
        #expect(
            history.stdout.split(separator: "\n").map { $0.split(separator: " ")[1] } == [
                "msg_ev_applied", "msg_ev_old",
            ])
        let recent = try clerkSync(["events", "--user", "user_ev", "--since", "1h"], databaseURL: database.url)
        #expect(recent.stdout.split(separator: "\n").map { $0.split(separator: " ")[1] } == ["msg_ev_applied"])
        let none = try clerkSync(["events", "--user", "user_nobody", "--failed"], databaseURL: database.url)
        #expect(none.stdout == "no failed deliveries found\n")
    }

    @Test("replay re-applies a recorded delivery through the same rules")
    func replay() throws {
        let database = try TestDatabase()
        let webhook = try Deliverer(databaseURL: database.url)
        webhook.deliver(
            ClerkPayload.user(id: "user_rp", email: "rp@example.com", first: "Re", updatedAt: 5), id: "msg_rp")
        let unchanged = try clerkSync(["replay", "msg_rp"], databaseURL: database.url)
        #expect(unchanged.stdout == "msg_rp: stale\n")
        // The table loses the row (a restore from an older backup, say): replay brings it back.
        try database.query("DELETE FROM public.users WHERE clerk_id = 'user_rp'")
        let restored = try clerkSync(["replay", "msg_rp"], databaseURL: database.url)
        #expect(restored.stdout == "msg_rp: applied\n")
        #expect(try database.user("user_rp") == UserRow(email: "rp@example.com", name: "Re", clerkUpdatedAt: 5))
        let missing = try clerkSync(["replay", "msg_nope"], databaseURL: database.url)
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("msg_nope: not in the ledger"))
    }

    @Test("prune deletes ledger entries and failures past the retention, in batches; --dry-run only counts")
    func prune() throws {
        let database = try TestDatabase()
        let webhook = try Deliverer(databaseURL: database.url)
        let old = ClerkPayload.user(id: "user_pr_old", email: "old@example.com", first: "Old", updatedAt: 3)
        webhook.deliver(old, id: "msg_pr_old")
        webhook.deliver(ClerkPayload.user(id: "user_pr_new", email: "new@example.com", updatedAt: 4), id: "msg_pr_new")
        webhook.deliver(Array("not json".utf8), id: "msg_pr_bad")
        webhook.deliver(Array("not json".utf8), id: "msg_pr_bad_recent")
        // 40 days old: the first delivery, one failure, and 12,000 more entries (three batches).
        try database.query(
            "UPDATE clerk_webhook.deliveries SET received_at = now() - interval '40 days' WHERE svix_id = 'msg_pr_old'")
        try database.query(
            "UPDATE clerk_webhook.rejections SET received_at = now() - interval '40 days' WHERE svix_id = 'msg_pr_bad'")
        try database.query(
            """
            INSERT INTO clerk_webhook.deliveries (svix_id, event_type, action, clerk_id, outcome, received_at)
            SELECT 'msg_pr_bulk_' || n, 'session.created', 'ignore', 'sess_' || n, 'ignored', now() - interval '31 days'
            FROM generate_series(1, 12000) n
            """)
        let ledger =
            "SELECT svix_id FROM clerk_webhook.deliveries WHERE svix_id NOT LIKE 'msg_pr_bulk_%' ORDER BY svix_id"
        let failures = "SELECT svix_id FROM clerk_webhook.rejections ORDER BY svix_id"
        let users = try database.query("SELECT clerk_id, email, name, deleted_at FROM public.users ORDER BY clerk_id")

        let dry = try clerkSync(["prune", "--dry-run"], databaseURL: database.url)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would delete 12001 ledger entries and 1 recorded failures received before"))
        #expect(try database.query("SELECT count(*) FROM clerk_webhook.deliveries") == [["12002"]])

        let tooShort = try clerkSync(["prune", "--older-than", "1d"], databaseURL: database.url)
        #expect(tooShort.status != 0)
        #expect(tooShort.stderr.contains("--older-than must be at least 2d"))
        #expect(try database.query("SELECT count(*) FROM clerk_webhook.deliveries") == [["12002"]])

        let pruned = try clerkSync(["prune", "--older-than", "30d"], databaseURL: database.url)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.contains("deleted 12001 ledger entries and 1 recorded failures received before"))
        #expect(try database.query(ledger) == [["msg_pr_new"]])
        #expect(try database.query(failures) == [["msg_pr_bad_recent"]])
        #expect(try database.query("SELECT count(*) FROM clerk_webhook.deliveries") == [["1"]])
        #expect(
            try database.query("SELECT clerk_id, email, name, deleted_at FROM public.users ORDER BY clerk_id") == users)
        let again = try clerkSync(["prune"], databaseURL: database.url)
        #expect(again.stdout.contains("deleted 0 ledger entries and 0 recorded failures"))

        // The pruned delivery sent again is judged by the ordering rule: the row already reflects it.
        #expect(webhook.deliver(old, id: "msg_pr_old") == .accepted(.stale))
        #expect(try database.user("user_pr_old") == UserRow(email: "old@example.com", name: "Old", clerkUpdatedAt: 3))
    }

    @Test("status: ok on a healthy database, exit 1 when something needs attention")
    func status() throws {
        let database = try TestDatabase(migrated: false)
        let unmigrated = try clerkSync(["status"], databaseURL: database.url)
        #expect(unmigrated.status == 1)
        #expect(unmigrated.stdout.contains("needs attention"))
        #expect(try clerkSync(["migrate"], databaseURL: database.url).status == 0)
        let webhook = try Deliverer(databaseURL: database.url)
        webhook.deliver(ClerkPayload.user(id: "user_st", email: nil, updatedAt: 1))
        let healthy = try clerkSync(["status"], databaseURL: database.url)
        #expect(healthy.status == 0, "\(healthy.stdout)")
        #expect(healthy.stdout.contains("applied   1 / 1"))
        #expect(healthy.stdout.contains("status: ok"))
        #expect(healthy.stdout.contains("oldest ledger entry: 0 d ago"))
        webhook.deliver(Array("not json".utf8))
        let failing = try clerkSync(["status"], databaseURL: database.url)
        #expect(failing.status == 1)
        #expect(failing.stdout.contains("1 signed deliveries failed in the last hour"))
        let unreachable = try clerkSync(["status"], databaseURL: "postgresql:///x?host=/nonexistent")
        #expect(unreachable.status == 1)
        #expect(unreachable.stdout.contains("database: unreachable"))
    }

    @Test("sign prints headers that verify; send posts them and prints the answer")
    func signAndSend() throws {
        let fixture = URL(fileURLWithPath: Self.migrationsDirectory).deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("fixtures/user.created.phone-only.json").path
        let signed = try clerkSync(["sign", fixture, "--id", "msg_sign"], secret: TestEnvironment.secret)
        var headers: [String: String] = [:]
        for line in signed.stdout.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            headers[parts[0]] = parts[1]
        }
        #expect(headers["svix-id"] == "msg_sign")
        let body = Array(try Data(contentsOf: URL(fileURLWithPath: fixture)))
        try TestEnvironment.signer.verify(
            headers: WebhookHeaders(
                id: headers["svix-id"], timestamp: headers["svix-timestamp"], signature: headers["svix-signature"]),
            body: body, now: Int64(Date().timeIntervalSince1970))

        let cgi = try #require(Deployment.all.first { $0.mode == "cgi" })
        let sent = try clerkSync(["send", fixture, "--url", cgi.url], secret: TestEnvironment.secret)
        #expect(sent.status == 0)
        #expect(sent.stdout.hasPrefix("200 {\"ok\":true"))
        let refused = try clerkSync(
            ["send", fixture, "--url", cgi.url], secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
        #expect(refused.status == 1)
        #expect(refused.stdout.hasPrefix("401 "))

        // A payload on standard input ("-"): sent as read, and the printed curl line carries it.
        let database = try TestDatabase(existing: TestEnvironment.value("CLERK_WEBHOOK_TEST_E2E_DATABASE"))
        for (step, command) in ["send", "sign"].enumerated() {
            let user = "user_" + uniqueToken()
            let payload = ClerkPayload.user(id: user, email: nil, first: "Piped", updatedAt: Int64(step + 1))
            let arguments = command == "send" ? ["send", "-", "--url", cgi.url] : ["sign", "-", "--curl", cgi.url]
            let run = try clerkSync(arguments, secret: TestEnvironment.secret, stdin: payload)
            #expect(run.status == 0, "\(command): \(run.stderr)")
            if command == "sign" {
                let curl = try ProcessRun("/bin/sh", ["-c", run.stdout], environment: ["PATH": "/usr/bin:/bin"])
                #expect(curl.stdout.contains(#"{"ok":true,"outcome":"applied"}"#), "\(curl.stdout)")
            } else {
                #expect(run.stdout == #"200 {"ok":true,"outcome":"applied"}"# + "\n", "\(run.stdout)")
            }
            #expect(try database.user(user) == UserRow(email: nil, name: "Piped", clerkUpdatedAt: Int64(step + 1)))
        }
    }

    @Test("every command has --help with an example; errors are one line and a non-zero exit")
    func help() throws {
        for command in [
            "sign", "send", "migrate", "events", "replay", "status", "prune", "reconcile", "ensure", "resync",
        ] {
            let run = try clerkSync([command, "--help"])
            #expect(run.status == 0)
            #expect(run.stdout.contains("Example"), "\(command) --help has no example")
        }
        let failure = try clerkSync(["sign", "/nonexistent.json"], secret: TestEnvironment.secret)
        #expect(failure.status != 0)
        #expect(failure.stderr == "Error: cannot read /nonexistent.json\n")
        let noKey = try clerkSync(["ensure", "user_1"])
        #expect(noKey.status != 0)
        #expect(noKey.stderr.split(separator: "\n").count == 1, "\(noKey.stderr)")
        #expect(noKey.stderr.contains("CLERK_SECRET_KEY"))
        let noDatabase = try clerkSync(["events"], databaseURL: "postgresql:///x?host=/nonexistent")
        #expect(noDatabase.status != 0)
        #expect(noDatabase.stderr.split(separator: "\n").count <= 2)
    }
}
