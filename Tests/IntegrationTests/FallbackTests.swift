import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

/// `clerk-sync reconcile`, `ensure` and `resync`: the release binary against a real PostgreSQL and
/// the local stand-in for Clerk's Backend API. Asserts what an operator sees (report lines, exit
/// status, requests sent) and the rows that result.
@Suite struct FallbackTests {
    /// Runs clerk-sync against `database` and `clerk`.
    func clerkSync(
        _ arguments: [String], database: TestDatabase, clerk: ClerkAPIStandIn,
        secretKey: String = ClerkAPIStandIn.secretKey
    ) throws -> ProcessRun {
        let environment = [
            "PATH": "/usr/bin:/bin", "DATABASE_URL": database.url, "CLERK_API_URL": clerk.baseURL,
            "CLERK_SECRET_KEY": secretKey,
        ]
        return try ProcessRun(
            try TestEnvironment.value("CLERK_WEBHOOK_TEST_SYNC_BINARY"), arguments, environment: environment)
    }

    /// Puts a row in the table as a webhook delivery would.
    func seed(_ database: TestDatabase, id: String, email: String?, first: String? = nil, updatedAt: Int64) throws {
        let webhook = try Deliverer(databaseURL: database.url)
        let response = webhook.deliver(ClerkPayload.user(id: id, email: email, first: first, updatedAt: updatedAt))
        #expect(response == .accepted(.applied))
    }

    func summary(created: Int = 0, updated: Int = 0, deleted: Int = 0, unchanged: Int = 0, failed: Int = 0) -> String {
        "created \(created), updated \(updated), deleted \(deleted), unchanged \(unchanged), failed \(failed)"
    }

    @Test("reconcile fills an empty table across pages, and a second run changes nothing")
    func convergesEmptyTable() throws {
        let database = try TestDatabase()
        let t = uniqueToken()
        let users = (1...5).map { (n: Int) -> String in
            let email: String? = n == 3 ? nil : "u\(n)-\(t)@example.com"
            let last: String? = n == 4 ? nil : "Last"
            return ClerkPayload.userObject(
                id: "user_\(t)_\(n)", email: email, first: "First\(n)", last: last, updatedAt: 1_000 + Int64(n),
                createdAt: 500 + Int64(n))
        }
        let clerk = try ClerkAPIStandIn(users: users)

        let first = try clerkSync(["reconcile", "--page-size", "3"], database: database, clerk: clerk)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("reconcile: " + summary(created: 5)), "\(first.stdout)")
        #expect(first.stderr.contains("listed 5 of 5 users"))
        #expect(
            try database.user("user_\(t)_1")
                == UserRow(email: "u1-\(t)@example.com", name: "First1 Last", clerkUpdatedAt: 1_001))
        #expect(try database.user("user_\(t)_3") == UserRow(email: nil, name: "First3 Last", clerkUpdatedAt: 1_003))
        #expect(
            try database.user("user_\(t)_4")
                == UserRow(email: "u4-\(t)@example.com", name: "First4", clerkUpdatedAt: 1_004))
        // One count, three pages of three, each after the first reading the last user of the one
        // before again (3 + 3 + 1 from offsets 0, 2 and 4), nothing else.
        let requests = try clerk.requests().map { "\($0.path)?\($0.query)" }
        #expect(
            requests == [
                "/v1/users/count?", "/v1/users?limit=3&offset=0&order_by=created_at",
                "/v1/users?limit=3&offset=2&order_by=created_at", "/v1/users?limit=3&offset=4&order_by=created_at",
            ])

        let before = try database.dump()
        let second = try clerkSync(["reconcile", "--page-size", "3"], database: database, clerk: clerk)
        #expect(second.status == 0)
        #expect(second.stdout.contains("reconcile: " + summary(unchanged: 5)), "\(second.stdout)")
        #expect(try database.dump() == before)
        // Nothing personal in what it printed.
        #expect(!(first.stdout + first.stderr).contains("@example.com"))
        #expect(!(first.stdout + first.stderr).contains("First1"))
    }

    @Test("users deleted in Clerk while reconcile pages hide no one; the next run deletes them")
    func deletionsWhileListing() throws {
        let database = try TestDatabase()
        let t = uniqueToken()
        let ids = (0..<12).map { "user_\(t)_\($0)" }
        let users = ids.enumerated().map { n, id in
            ClerkPayload.userObject(
                id: id, email: "u\(n)-\(t)@example.com", updatedAt: 1_000, createdAt: 500 + Int64(n))
        }
        // Three users of the first page are deleted right after it is answered: plain offset paging
        // would then skip the three users that move down into the offsets it already read.
        let deleted = Array(ids[0..<3])
        let clerk = try ClerkAPIStandIn(users: users, deletedAfterListRequests: [1: deleted])

        let first = try clerkSync(["reconcile", "--page-size", "5"], database: database, clerk: clerk)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("reconcile: " + summary(created: 12)), "\(first.stdout)")
        #expect(first.stderr.contains("users deleted meanwhile"), "\(first.stderr)")
        for (n, id) in ids.enumerated().dropFirst(3) {
            #expect(try database.user(id) == UserRow(email: "u\(n)-\(t)@example.com", clerkUpdatedAt: 1_000))
        }

        // The deleted users were read before they went; the next run finds them gone (404).
        let second = try clerkSync(["reconcile", "--page-size", "5"], database: database, clerk: clerk)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("reconcile: " + summary(deleted: 3, unchanged: 9)), "\(second.stdout)")
        for id in deleted { #expect(try database.user(id)?.deleted == true) }
    }

    @Test("--dry-run prints the diff with ids and writes nothing")
    func dryRun() throws {
        let database = try TestDatabase()
        let t = uniqueToken()
        try seed(database, id: "user_\(t)_stale", email: "stale-\(t)@example.com", updatedAt: 100)
        try seed(database, id: "user_\(t)_gone", email: "gone-\(t)@example.com", updatedAt: 100)
        try seed(database, id: "user_\(t)_same", email: "same-\(t)@example.com", updatedAt: 100)
        let clerk = try ClerkAPIStandIn(users: [
            ClerkPayload.userObject(id: "user_\(t)_stale", email: "new-\(t)@example.com", updatedAt: 200),
            ClerkPayload.userObject(id: "user_\(t)_same", email: "same-\(t)@example.com", updatedAt: 100),
            ClerkPayload.userObject(id: "user_\(t)_new", email: nil, updatedAt: 300),
        ])
        let before = try database.dump()
        let run = try clerkSync(["reconcile", "--dry-run"], database: database, clerk: clerk)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("would create 1: user_\(t)_new"), "\(run.stdout)")
        #expect(run.stdout.contains("would update 1: user_\(t)_stale"))
        #expect(run.stdout.contains("would delete 1: user_\(t)_gone"))
        #expect(run.stdout.contains("unchanged 1"))
        #expect(!run.stdout.contains("@example.com"))
        #expect(try database.dump() == before)
    }

    @Test("reconcile repairs a stale table: newer rows win, users gone from Clerk are soft-deleted")
    func staleTable() throws {
        let database = try TestDatabase()
        let t = uniqueToken()
        try seed(database, id: "user_\(t)_old", email: "old-\(t)@example.com", first: "Old", updatedAt: 100)
        // A webhook applied newer data than the snapshot reconcile is about to read.
        try seed(database, id: "user_\(t)_newer", email: "newer-\(t)@example.com", first: "Newer", updatedAt: 900)
        try seed(database, id: "user_\(t)_gone", email: "gone-\(t)@example.com", updatedAt: 100)
        // The seed's default clerk_id is the text 'NULL': not a Clerk user, left alone.
        try database.query(
            #"INSERT INTO public.users (email, "updatedAt") VALUES ($1, now())"#, "local-\(t)@example.com")
        // A tombstone whose user Clerk still lists: delete is terminal, reconcile only reports it.
        try seed(database, id: "user_\(t)_tomb", email: nil, updatedAt: 100)
        try Deliverer(databaseURL: database.url).deliver(ClerkPayload.deleted(id: "user_\(t)_tomb"))
        let clerk = try ClerkAPIStandIn(users: [
            ClerkPayload.userObject(
                id: "user_\(t)_old", email: "renamed-\(t)@example.com", first: "Renamed", updatedAt: 500),
            ClerkPayload.userObject(
                id: "user_\(t)_newer", email: "older-\(t)@example.com", first: "Older", updatedAt: 800),
            ClerkPayload.userObject(id: "user_\(t)_tomb", email: nil, updatedAt: 100),
        ])

        let run = try clerkSync(["reconcile"], database: database, clerk: clerk)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("reconcile: " + summary(updated: 1, deleted: 1, unchanged: 2)), "\(run.stdout)")
        #expect(run.stdout.contains("deleted here but present in Clerk: user_\(t)_tomb"))
        #expect(
            try database.user("user_\(t)_old")
                == UserRow(email: "renamed-\(t)@example.com", name: "Renamed", clerkUpdatedAt: 500))
        #expect(
            try database.user("user_\(t)_newer")
                == UserRow(email: "newer-\(t)@example.com", name: "Newer", clerkUpdatedAt: 900))
        #expect(try database.user("user_\(t)_gone")?.deleted == true)
        #expect(try database.user("user_\(t)_tomb")?.deleted == true)
        #expect(
            try database.query("SELECT deleted_at IS NULL FROM public.users WHERE email = $1", "local-\(t)@example.com")
                == [["t"]])
        // Only the one candidate was confirmed one by one; the kept rows were not.
        #expect(
            try clerk.requests().filter { $0.path.hasPrefix("/v1/users/user_") }.map(\.path) == [
                "/v1/users/user_\(t)_gone"
            ])

        let before = try database.dump()
        let again = try clerkSync(["reconcile"], database: database, clerk: clerk)
        #expect(again.stdout.contains("reconcile: " + summary(unchanged: 3)), "\(again.stdout)")
        #expect(try database.dump() == before)
    }

    @Test(
        "missed address changes converge in one run: a swap (either user listed first) and a re-signup",
        arguments: [true, false])
    func missedAddressChanges(swapperFirst: Bool) throws {
        // The endpoint was down while two users swapped addresses in Clerk, and a deleted user's
        // address went to a new sign-up: every claim in the listing is held by another row.
        let database = try TestDatabase()
        let t = uniqueToken()
        let (a, b, old, new) = ("user_\(t)_a", "user_\(t)_b", "user_\(t)_old", "user_\(t)_new")
        try seed(database, id: a, email: "a-\(t)@example.com", first: "A", updatedAt: 100)
        try seed(database, id: b, email: "b-\(t)@example.com", first: "B", updatedAt: 100)
        try seed(database, id: old, email: "c-\(t)@example.com", first: "Old", updatedAt: 100)
        let swapped = [
            ClerkPayload.userObject(id: a, email: "b-\(t)@example.com", first: "A", updatedAt: 500),
            ClerkPayload.userObject(id: b, email: "a-\(t)@example.com", first: "B", updatedAt: 600),
        ]
        let clerk = try ClerkAPIStandIn(
            users: (swapperFirst ? swapped : swapped.reversed())
                + [ClerkPayload.userObject(id: new, email: "c-\(t)@example.com", first: "New", updatedAt: 700)])

        let run = try clerkSync(["reconcile"], database: database, clerk: clerk)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("reconcile: " + summary(created: 1, updated: 2, deleted: 1)), "\(run.stdout)")
        #expect(try database.user(a) == UserRow(email: "b-\(t)@example.com", name: "A", clerkUpdatedAt: 500))
        #expect(try database.user(b) == UserRow(email: "a-\(t)@example.com", name: "B", clerkUpdatedAt: 600))
        #expect(try database.user(new) == UserRow(email: "c-\(t)@example.com", name: "New", clerkUpdatedAt: 700))
        let gone = try #require(try database.user(old))
        #expect(gone.deleted && gone.email != "c-\(t)@example.com")

        let before = try database.dump()
        let again = try clerkSync(["reconcile"], database: database, clerk: clerk)
        #expect(again.stdout.contains("reconcile: " + summary(unchanged: 3)), "\(again.stdout)")
        #expect(try database.dump() == before)
    }

    @Test("a user missing from the listing but alive in Clerk is applied, not deleted")
    func confirmsBeforeDeleting() throws {
        let database = try TestDatabase()
        let t = uniqueToken()
        try seed(database, id: "user_\(t)_late", email: "late-\(t)@example.com", updatedAt: 100)
        let clerk = try ClerkAPIStandIn(
            users: [ClerkPayload.userObject(id: "user_\(t)_late", email: "late2-\(t)@example.com", updatedAt: 200)],
            unlisted: ["user_\(t)_late"])
        let run = try clerkSync(["reconcile"], database: database, clerk: clerk)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("reconcile: " + summary(updated: 1)), "\(run.stdout)")
        #expect(try database.user("user_\(t)_late") == UserRow(email: "late2-\(t)@example.com", clerkUpdatedAt: 200))
    }

    @Test("429 waits for Retry-After and a 500 is retried; the run still converges")
    func retries() throws {
        let database = try TestDatabase()
        let t = uniqueToken()
        let clerk = try ClerkAPIStandIn(
            users: [ClerkPayload.userObject(id: "user_\(t)_a", email: "a-\(t)@example.com", updatedAt: 1)],
            faults: [
                .init(path: "/v1/users", status: 429, retryAfter: "1"),
                .init(path: "/v1/users/count", status: 500),
            ])
        let run = try clerkSync(["reconcile"], database: database, clerk: clerk)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("reconcile: " + summary(created: 1)), "\(run.stdout)")
        #expect(run.stderr.contains("GET /users: HTTP 429, retrying in 1 s"), "\(run.stderr)")
        #expect(run.stderr.contains("GET /users/count: HTTP 500, retrying in 1 s"))
        let statuses = try clerk.requests().map { "\($0.path) \($0.status)" }
        #expect(statuses == ["/v1/users/count 500", "/v1/users/count 200", "/v1/users 429", "/v1/users 200"])
        #expect(try database.user("user_\(t)_a")?.email == "a-\(t)@example.com")
    }

    @Test("a refused key stops at once with a clear error; nothing is written")
    func refusedKey() throws {
        let database = try TestDatabase()
        let t = uniqueToken()
        try seed(database, id: "user_\(t)_kept", email: nil, updatedAt: 1)
        let clerk = try ClerkAPIStandIn(users: [])
        let before = try database.dump()
        let run = try clerkSync(["reconcile"], database: database, clerk: clerk, secretKey: "sk_test_wrong")
        #expect(run.status != 0)
        #expect(run.stderr.contains("Clerk refused the secret key (HTTP 401)"), "\(run.stderr)")
        #expect(!run.stderr.contains("sk_test_wrong"))
        #expect(try clerk.requests().count == 1)
        #expect(try database.dump() == before)
    }

    @Test("a key of another Clerk instance (none of the table's users listed): stops before writing anything")
    func anotherInstance() throws {
        let database = try TestDatabase()
        let t = uniqueToken()
        let ours = (0..<3).map { "user_\(t)_ours\($0)" }
        for id in ours { try seed(database, id: id, email: nil, updatedAt: 1) }
        // The other instance's users, none of them ours; ours are 404 there.
        let clerk = try ClerkAPIStandIn(users: [
            ClerkPayload.userObject(id: "user_\(t)_dev1", email: "dev1-\(t)@example.com", updatedAt: 5),
            ClerkPayload.userObject(id: "user_\(t)_dev2", email: nil, updatedAt: 5),
        ])
        let before = try database.dump()
        let run = try clerkSync(["reconcile"], database: database, clerk: clerk)
        #expect(run.status == 1)
        #expect(
            run.stderr.contains(
                "would soft-delete 3 of the table's 3 live users (every one: Clerk listed none of them)"),
            "\(run.stderr)")
        #expect(run.stderr.contains("Nothing was written."))
        #expect(try database.dump() == before)
        // Refused before any per-user confirmation.
        #expect(try clerk.requests().filter { $0.path.hasPrefix("/v1/users/user_") }.isEmpty)

        // --dry-run still shows the diff, with the warning; --allow-mass-delete goes ahead.
        let dry = try clerkSync(["reconcile", "--dry-run"], database: database, clerk: clerk)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would delete 3: " + ours.joined(separator: " ")), "\(dry.stdout)")
        #expect(dry.stderr.contains("--allow-mass-delete"))
        #expect(try database.dump() == before)
        // ensure and resync have no listing: before a 404 soft-deletes a live row they ask Clerk
        // about the table's other live users, and this instance knows none of them.
        for command in ["ensure", "resync"] {
            let one = try clerkSync([command, ours[0]], database: database, clerk: clerk)
            #expect(one.status == 1)
            #expect(one.stdout == "\(ours[0]): failed\n")
            #expect(
                one.stderr.contains(
                    "Clerk answers 404 for this user and for the table's 2 most recently changed other live users too"),
                "\(one.stderr)")
            #expect(try database.dump() == before)
        }
        let allowed = try clerkSync(["reconcile", "--allow-mass-delete"], database: database, clerk: clerk)
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdout.contains("reconcile: " + summary(created: 2, deleted: 3)), "\(allowed.stdout)")
        for id in ours { #expect(try database.user(id)?.deleted == true) }
    }

    @Test("a listing that keeps failing stops before writing: no user looks deleted")
    func failedListingWritesNothing() throws {
        let database = try TestDatabase()
        let t = uniqueToken()
        try seed(database, id: "user_\(t)_kept", email: nil, updatedAt: 1)
        let clerk = try ClerkAPIStandIn(
            users: (1...3).map { (n: Int) -> String in
                ClerkPayload.userObject(id: "user_\(t)_\(n)", email: nil, updatedAt: 1, createdAt: Int64(n))
            },
            faults: [.init(path: "/v1/users", status: 503, times: 100)])
        let before = try database.dump()
        let run = try clerkSync(["reconcile", "--retries", "1"], database: database, clerk: clerk)
        #expect(run.status != 0)
        #expect(run.stderr.contains("nothing was written"), "\(run.stderr)")
        #expect(run.stderr.contains("HTTP 503 after 2 attempts"))
        #expect(try database.dump() == before)
    }

    @Test(
        "ensure applies one user under the webhook's rules; 404 deletes a row, and writes nothing for an id without one"
    )
    func ensure() throws {
        let database = try TestDatabase()
        let t = uniqueToken()
        try seed(database, id: "user_\(t)_newer", email: nil, first: "Newer", updatedAt: 900)
        try seed(database, id: "user_\(t)_gone", email: nil, updatedAt: 1)
        let clerk = try ClerkAPIStandIn(
            users: [
                ClerkPayload.userObject(id: "user_\(t)_new", email: "new-\(t)@example.com", first: "New", updatedAt: 5),
                ClerkPayload.userObject(id: "user_\(t)_newer", email: nil, first: "Older", updatedAt: 800),
            ],
            faults: [.init(path: "/v1/users/user_\(t)_new", status: 502)])

        let created = try clerkSync(["ensure", "user_\(t)_new"], database: database, clerk: clerk)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout == "user_\(t)_new: created\n")
        #expect(
            try database.user("user_\(t)_new") == UserRow(email: "new-\(t)@example.com", name: "New", clerkUpdatedAt: 5)
        )

        let kept = try clerkSync(["ensure", "user_\(t)_newer"], database: database, clerk: clerk)
        #expect(kept.stdout == "user_\(t)_newer: unchanged\n")
        #expect(try database.user("user_\(t)_newer")?.name == "Newer")

        let gone = try clerkSync(["ensure", "user_\(t)_gone", "user_\(t)_never"], database: database, clerk: clerk)
        #expect(gone.status == 1)
        #expect(gone.stdout.contains("user_\(t)_gone: deleted"))
        #expect(gone.stdout.contains("user_\(t)_never: failed"))
        #expect(
            gone.stderr.contains("user_\(t)_never: failed: Clerk has no such user (HTTP 404) and the table has no row"),
            "\(gone.stderr)")
        #expect(!gone.stderr.contains("user_\(t)_gone:"), "\(gone.stderr)")
        #expect(try database.user("user_\(t)_gone")?.deleted == true)
        // No row for a 404 the table never had (a mistyped id, another instance's key): the user's
        // own user.created, should it come, still makes one.
        #expect(try database.user("user_\(t)_never") == nil)
        let late = try Deliverer(databaseURL: database.url).deliver(
            ClerkPayload.user(id: "user_\(t)_never", email: nil, updatedAt: 1))
        #expect(late == .accepted(.applied))
        #expect(try database.user("user_\(t)_never")?.deleted == false)
        let resync = try clerkSync(["resync", "user_\(t)_typo"], database: database, clerk: clerk)
        #expect(resync.status == 1)
        #expect(resync.stdout == "user_\(t)_typo: failed\n")
        #expect(try database.user("user_\(t)_typo") == nil)
    }

    @Test(
        "two changes in one millisecond, their webhooks applied in the wrong order: reconcile and ensure write Clerk's")
    func sameStamp() throws {
        // Clerk changed each user twice within one millisecond: both webhooks carry updated_at 500,
        // the earlier change was delivered first, so the later one was stale.
        let database = try TestDatabase()
        let t = uniqueToken()
        let (listed, ensured, tomb, newer) = (
            "user_\(t)_listed", "user_\(t)_ensured", "user_\(t)_tomb", "user_\(t)_newer"
        )
        for id in [listed, ensured, tomb] {
            try seed(database, id: id, email: "early-\(id)@example.com", first: "Early", updatedAt: 500)
            let later = ClerkPayload.user(
                "user.updated", id: id, email: "late-\(id)@example.com", first: "Late", updatedAt: 500)
            #expect(try Deliverer(databaseURL: database.url).deliver(later) == .accepted(.stale))
        }
        try Deliverer(databaseURL: database.url).deliver(ClerkPayload.deleted(id: tomb))
        try seed(database, id: newer, email: nil, first: "Newer", updatedAt: 700)
        let clerk = try ClerkAPIStandIn(
            users: [listed, ensured, tomb].map {
                ClerkPayload.userObject(id: $0, email: "late-\($0)@example.com", first: "Late", updatedAt: 500)
            } + [ClerkPayload.userObject(id: newer, email: nil, first: "Older", updatedAt: 700)])

        let ensure = try clerkSync(["ensure", ensured], database: database, clerk: clerk)
        #expect(ensure.stdout == "\(ensured): updated\n", "\(ensure.stderr)")
        let dry = try clerkSync(["reconcile", "--dry-run"], database: database, clerk: clerk)
        #expect(dry.stdout.contains("would update 2: \(listed) \(newer)"), "\(dry.stdout)")
        #expect(try database.user(listed)?.name == "Early")

        let run = try clerkSync(["reconcile"], database: database, clerk: clerk)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(summary(updated: 2, unchanged: 2)), "\(run.stdout)")
        for id in [listed, ensured] {
            #expect(
                try database.user(id) == UserRow(email: "late-\(id)@example.com", name: "Late", clerkUpdatedAt: 500))
        }
        #expect(try database.user(newer)?.name == "Older")
        // Delete stays terminal.
        #expect(try database.user(tomb)?.deleted == true)
        #expect(try database.user(tomb)?.name == "Early")
        let again = try clerkSync(["reconcile"], database: database, clerk: clerk)
        #expect(again.stdout.contains(summary(unchanged: 4)), "\(again.stdout)")

        // The statement itself leaves a row alone once a newer webhook got there between the
        // listing and the write, and keeps the email rule.
        try seed(database, id: newer, email: nil, first: "Newest", updatedAt: 800)
        let snapshot = Statements.applyUserSnapshot
        #expect(try database.query(snapshot, newer, "700", nil, "Older").first?.first == "stale")
        #expect(try database.user(newer) == UserRow(email: nil, name: "Newest", clerkUpdatedAt: 800))
        #expect(
            try database.query(snapshot, newer, "800", "late-\(listed)@example.com", "Claim").first?.first == "applied")
        // The newer claim takes the address, as a webhook's would; the older holder's becomes NULL.
        #expect(
            try database.user(newer) == UserRow(email: "late-\(listed)@example.com", name: "Claim", clerkUpdatedAt: 800)
        )
        #expect(try database.user(listed)?.email == nil)
    }

    @Test("resync forces Clerk's state over a newer stamp and a tombstone, and logs it")
    func resync() throws {
        let database = try TestDatabase()
        let t = uniqueToken()
        try seed(database, id: "user_\(t)_ahead", email: "wrong-\(t)@example.com", first: "Wrong", updatedAt: 9_999)
        try seed(database, id: "user_\(t)_tomb", email: nil, updatedAt: 1)
        try Deliverer(databaseURL: database.url).deliver(ClerkPayload.deleted(id: "user_\(t)_tomb"))
        let clerk = try ClerkAPIStandIn(users: [
            ClerkPayload.userObject(
                id: "user_\(t)_ahead", email: "right-\(t)@example.com", first: "Right", updatedAt: 50),
            ClerkPayload.userObject(id: "user_\(t)_tomb", email: "back-\(t)@example.com", first: "Back", updatedAt: 60),
        ])
        let run = try clerkSync(["resync", "user_\(t)_ahead", "user_\(t)_tomb"], database: database, clerk: clerk)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("user_\(t)_ahead: updated"))
        #expect(run.stdout.contains("user_\(t)_tomb: updated"))
        #expect(run.stdout.contains(summary(updated: 2)))
        #expect(
            try database.user("user_\(t)_ahead")
                == UserRow(email: "right-\(t)@example.com", name: "Right", clerkUpdatedAt: 50))
        #expect(
            try database.user("user_\(t)_tomb")
                == UserRow(email: "back-\(t)@example.com", name: "Back", clerkUpdatedAt: 60))
        let logged = run.stderr.split(separator: "\n").filter { $0.contains(#""msg":"user resynced from Clerk""#) }
        #expect(logged.count == 2)
        #expect(logged.allSatisfy { $0.contains(#""forced":"true""#) })
        #expect(!run.stderr.contains("@example.com"))
        // Reconcile afterwards agrees with what resync wrote.
        let check = try clerkSync(["reconcile", "--dry-run"], database: database, clerk: clerk)
        #expect(check.stdout.contains("would update 0"), "\(check.stdout)")
    }

    @Test("missing key or bad arguments: one readable line, non-zero exit")
    func usageErrors() throws {
        let database = try TestDatabase()
        let clerk = try ClerkAPIStandIn(users: [])
        let noKey = try clerkSync(["reconcile"], database: database, clerk: clerk, secretKey: "")
        #expect(noKey.status != 0)
        #expect(noKey.stderr.contains("set CLERK_SECRET_KEY"))
        #expect(try clerkSync(["reconcile", "--page-size", "501"], database: database, clerk: clerk).status != 0)
        #expect(try clerkSync(["ensure"], database: database, clerk: clerk).status != 0)
    }
}
