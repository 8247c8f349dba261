import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

/// Every sync rule, through the real pipeline against a real PostgreSQL 15 (a fresh database per test):
/// the HTTP status a sender sees and the rows that result.
@Suite struct SyncRulesTests {
    let database: TestDatabase
    let webhook: Deliverer
    let user = "user_" + uniqueToken()

    init() throws {
        database = try TestDatabase()
        webhook = try Deliverer(databaseURL: database.url)
    }

    @Test("user.created inserts the row with role 'user' and the app's defaults")
    func created() throws {
        let response = webhook.deliver(
            ClerkPayload.user(id: user, email: "ada@example.com", first: "Ada", last: "Lovelace", updatedAt: 100))
        #expect(response == .accepted(.applied))
        #expect(try database.user(user) == UserRow(email: "ada@example.com", name: "Ada Lovelace", clerkUpdatedAt: 100))
        let defaults = try database.query(
            "SELECT preferences->>'displayUnit', medical_profile->>'preferredUnit' FROM public.users WHERE clerk_id = $1",
            user)
        #expect(defaults == [["A1C", "MGDL"]])
    }

    @Test(#""createdAt" is UTC like "updatedAt" (as Prisma writes them) whatever the session's TimeZone"#)
    func utcTimestamps() throws {
        // libpq's options parameter, percent-encoded: -c TimeZone=America/New_York.
        let newYork = try Deliverer(databaseURL: database.url + "&options=-c%20TimeZone%3DAmerica%2FNew_York")
        let tombstone = "user_" + uniqueToken()
        #expect(
            newYork.deliver(ClerkPayload.user(id: user, email: "tz@example.com", updatedAt: 1)) == .accepted(.applied))
        #expect(newYork.deliver(ClerkPayload.deleted(id: tombstone)) == .accepted(.applied))
        // Both columns take the statement's start; in UTC they are equal and within minutes of now.
        let rows = try database.query(
            #"""
            SELECT "createdAt" = "updatedAt", abs(extract(epoch FROM "createdAt" - (now() AT TIME ZONE 'utc'))) < 600
              FROM public.users WHERE clerk_id IN ($1, $2)
            """#, user, tombstone)
        #expect(rows == [["t", "t"], ["t", "t"]])
    }

    @Test("the Clerk fixtures: created, then updated (primary email by id), then deleted")
    func fixtures() throws {
        let clerkID = "user_29w83sxmDNGwOuEthce5gg56FcC"
        #expect(webhook.deliver(try repositoryFixture("user.created.json")).status == 200)
        #expect(
            try database.user(clerkID)
                == UserRow(email: "example@example.org", name: "Example Example", clerkUpdatedAt: 1_654_012_591_835))
        #expect(webhook.deliver(try repositoryFixture("user.updated.json")).status == 200)
        #expect(
            try database.user(clerkID)
                == UserRow(email: "john.doe@example.com", name: "John Doe", clerkUpdatedAt: 1_716_883_500_000))
        #expect(webhook.deliver(try repositoryFixture("user.deleted.json")).status == 200)
        #expect(try database.user(clerkID)?.deleted == true)
        #expect(try database.user(clerkID)?.email == "john.doe@example.com")
    }

    @Test("a phone-only user gets NULL email and name")
    func phoneOnly() throws {
        #expect(webhook.deliver(ClerkPayload.user(id: user, email: nil, updatedAt: 5)).status == 200)
        #expect(try database.user(user) == UserRow(email: nil, name: nil, clerkUpdatedAt: 5))
    }

    @Test("the same svix id delivered again has no further effect")
    func duplicate() throws {
        let body = ClerkPayload.user(id: user, email: "dup-\(user)@example.com", first: "First", updatedAt: 100)
        #expect(webhook.deliver(body, id: "msg_dup_\(user)") == .accepted(.applied))
        try database.query("UPDATE public.users SET name = 'Changed by the app' WHERE clerk_id = $1", user)
        #expect(webhook.deliver(body, id: "msg_dup_\(user)") == .accepted(.duplicate))
        #expect(try database.user(user)?.name == "Changed by the app")
        #expect(
            try database.query("SELECT count(*) FROM clerk_webhook.deliveries WHERE svix_id = $1", "msg_dup_\(user)")
                == [["1"]])
        #expect(try database.ledgerOutcome("msg_dup_\(user)") == "applied")
    }

    @Test("a repeated svix id changes nothing even where its change would apply again (row removed, tombstone lifted)")
    func duplicateUndone() throws {
        let body = ClerkPayload.user(id: user, email: "undo-\(user)@example.com", first: "First", updatedAt: 100)
        #expect(webhook.deliver(body, id: "msg_undo_c_\(user)") == .accepted(.applied))
        try database.query("DELETE FROM public.users WHERE clerk_id = $1", user)
        #expect(webhook.deliver(body, id: "msg_undo_c_\(user)") == .accepted(.duplicate))
        #expect(try database.user(user) == nil)

        let other = "user_" + uniqueToken()
        #expect(webhook.deliver(ClerkPayload.deleted(id: other), id: "msg_undo_d_\(other)") == .accepted(.applied))
        try database.query("UPDATE public.users SET deleted_at = NULL WHERE clerk_id = $1", other)
        #expect(webhook.deliver(ClerkPayload.deleted(id: other), id: "msg_undo_d_\(other)") == .accepted(.duplicate))
        #expect(try database.user(other)?.deleted == false)
        #expect(try database.ledgerOutcome("msg_undo_c_\(user)") == "applied")
        #expect(try database.ledgerOutcome("msg_undo_d_\(other)") == "applied")
    }

    @Test("an older event never overwrites newer data")
    func staleUpdate() throws {
        webhook.deliver(
            ClerkPayload.user("user.updated", id: user, email: "new@\(user).com", first: "New", updatedAt: 200))
        let response = webhook.deliver(
            ClerkPayload.user("user.created", id: user, email: "old@\(user).com", first: "Old", updatedAt: 100))
        #expect(response == .accepted(.stale))
        #expect(try database.user(user) == UserRow(email: "new@\(user).com", name: "New", clerkUpdatedAt: 200))
    }

    @Test("role is never overwritten")
    func roleKept() throws {
        webhook.deliver(ClerkPayload.user(id: user, email: nil, first: "A", updatedAt: 1))
        try database.query("UPDATE public.users SET role = 'admin' WHERE clerk_id = $1", user)
        webhook.deliver(ClerkPayload.user("user.updated", id: user, email: nil, first: "B", updatedAt: 2))
        #expect(try database.user(user) == UserRow(email: nil, name: "B", role: "admin", clerkUpdatedAt: 2))
    }

    static let orders: [[String]] = [
        ["created", "updated", "deleted"], ["created", "deleted", "updated"], ["updated", "created", "deleted"],
        ["updated", "deleted", "created"], ["deleted", "created", "updated"], ["deleted", "updated", "created"],
    ]

    @Test("every delivery order of created/updated/deleted ends in the same row", arguments: orders)
    func anyOrder(order: [String]) throws {
        let email = "order-\(user)@example.com"
        let bodies = [
            "created": ClerkPayload.user(
                "user.created", id: user, email: "first-\(user)@example.com", first: "First", updatedAt: 100),
            "updated": ClerkPayload.user(
                "user.updated", id: user, email: email, first: "Second", last: "Name", updatedAt: 200),
            "deleted": ClerkPayload.deleted(id: user),
        ]
        for step in order {
            #expect(webhook.deliver(bodies[step]!).status == 200, "\(step) in \(order)")
        }
        #expect(
            try database.user(user) == UserRow(email: email, name: "Second Name", deleted: true, clerkUpdatedAt: 200))
    }

    @Test("delete is terminal: a newer update does not bring the row back")
    func deleteIsTerminal() throws {
        webhook.deliver(ClerkPayload.user(id: user, email: nil, updatedAt: 100))
        #expect(webhook.deliver(ClerkPayload.deleted(id: user)) == .accepted(.applied))
        #expect(webhook.deliver(ClerkPayload.deleted(id: user)) == .accepted(.stale))
        webhook.deliver(ClerkPayload.user("user.updated", id: user, email: nil, first: "Zombie", updatedAt: 999))
        #expect(try database.user(user)?.deleted == true)
        #expect(try database.query("SELECT count(*) FROM public.users WHERE clerk_id = $1", user) == [["1"]])
    }

    @Test("re-signup: a new user takes the email of a deleted one, in either delivery order")
    func resignup() throws {
        let email = "again-\(user)@example.com"
        let old = user + "_old"
        let new = user + "_new"
        // The old account is created and deleted, then the person signs up again.
        webhook.deliver(ClerkPayload.user(id: old, email: email, first: "Old", updatedAt: 100))
        webhook.deliver(ClerkPayload.deleted(id: old))
        #expect(
            webhook.deliver(ClerkPayload.user(id: new, email: email, first: "New", updatedAt: 300))
                == .accepted(.applied))
        #expect(try database.user(new)?.email == email)
        #expect(try database.user(old) == UserRow(email: nil, name: "Old", deleted: true, clerkUpdatedAt: 100))
        // A late retry of the old account's update must not take the address back.
        webhook.deliver(ClerkPayload.user("user.updated", id: old, email: email, first: "Old", updatedAt: 150))
        #expect(try database.user(new)?.email == email)
        #expect(try database.user(old)?.email == nil)
    }

    @Test("re-signup delivered before the old account's delete: the newer claim wins")
    func resignupBeforeDelete() throws {
        let email = "early-\(user)@example.com"
        let old = user + "_old"
        let new = user + "_new"
        webhook.deliver(ClerkPayload.user(id: old, email: email, updatedAt: 100))
        #expect(webhook.deliver(ClerkPayload.user(id: new, email: email, updatedAt: 300)).status == 200)
        webhook.deliver(ClerkPayload.deleted(id: old))
        #expect(try database.user(new)?.email == email)
        #expect(try database.user(old) == UserRow(email: nil, name: nil, deleted: true, clerkUpdatedAt: 100))
    }

    @Test("two users swapping addresses converge in either order", arguments: [true, false])
    func swap(aFirst: Bool) throws {
        let a = user + "_a"
        let b = user + "_b"
        let one = "one-\(user)@example.com"
        let two = "two-\(user)@example.com"
        webhook.deliver(ClerkPayload.user(id: a, email: one, updatedAt: 100))
        webhook.deliver(ClerkPayload.user(id: b, email: two, updatedAt: 100))
        let aTakesTwo = ClerkPayload.user("user.updated", id: a, email: two, updatedAt: 300)
        let bTakesOne = ClerkPayload.user("user.updated", id: b, email: one, updatedAt: 200)
        for body in aFirst ? [aTakesTwo, bTakesOne] : [bTakesOne, aTakesTwo] {
            #expect(webhook.deliver(body).status == 200)
        }
        #expect(try database.user(a)?.email == two)
        #expect(try database.user(b)?.email == one)
    }

    @Test("an older claim on a live user's email leaves the claimant without an email, never an error")
    func olderClaimLoses() throws {
        let holder = user + "_holder"
        let email = "taken-\(user)@example.com"
        webhook.deliver(ClerkPayload.user(id: holder, email: email, updatedAt: 500))
        #expect(
            webhook.deliver(ClerkPayload.user(id: user, email: email, first: "Late", updatedAt: 400))
                == .accepted(.applied))
        #expect(try database.user(holder)?.email == email)
        #expect(try database.user(user) == UserRow(email: nil, name: "Late", clerkUpdatedAt: 400))
    }

    @Test("unknown event types are 200 and change no user")
    func unknownType() throws {
        let id = "msg_" + uniqueToken()
        let response = webhook.deliver(try repositoryFixture("session.created.json"), id: id)
        #expect(response == .accepted(.ignored))
        #expect(try database.query("SELECT count(*) FROM public.users") == [["0"]])
        #expect(try database.ledgerOutcome(id) == "ignored")
    }

    @Test("nothing is half-applied when the statement fails, and the retry applies it")
    func atomic() throws {
        webhook.deliver(
            ClerkPayload.user(id: user, email: "atomic-\(user)@example.com", first: "Before", updatedAt: 100))
        // A constraint the update violates after the ledger row was written inside the same statement.
        try database.query("ALTER TABLE public.users ADD CONSTRAINT no_boom CHECK (name IS DISTINCT FROM 'Boom')")
        let id = "msg_" + uniqueToken()
        let update = ClerkPayload.user(
            "user.updated", id: user, email: "after-\(user)@example.com", first: "Boom", updatedAt: 200)
        #expect(webhook.deliver(update, id: id).status == 500)
        #expect(try database.ledgerOutcome(id) == nil)
        #expect(
            try database.user(user) == UserRow(email: "atomic-\(user)@example.com", name: "Before", clerkUpdatedAt: 100)
        )

        try database.query("ALTER TABLE public.users DROP CONSTRAINT no_boom")
        #expect(webhook.deliver(update, id: id) == .accepted(.applied))
        #expect(
            try database.user(user) == UserRow(email: "after-\(user)@example.com", name: "Boom", clerkUpdatedAt: 200))
    }

    @Test("an unreachable database is 503 with Retry-After; redelivery then applies")
    func unreachable() throws {
        let down = try Deliverer(databaseURL: "postgresql:///nowhere?host=/nonexistent&connect_timeout=2")
        let id = "msg_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: nil, first: "Later", updatedAt: 7)
        let response = down.deliver(body, id: id)
        #expect(response.status == 503)
        #expect(response.headers.contains { $0.name == "Retry-After" })
        #expect(webhook.deliver(body, id: id) == .accepted(.applied))
        #expect(try database.user(user)?.name == "Later")
    }

    @Test("the same delivery sent concurrently has one effect")
    func concurrentDuplicates() async throws {
        let body = ClerkPayload.user(id: user, email: "conc-\(user)@example.com", updatedAt: 10)
        let id = "msg_" + uniqueToken()
        let url = database.url
        let statuses = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    let response = try Deliverer(databaseURL: url).deliver(body, id: id)
                    return "\(response.status) \(response.body)"
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0.contains("applied") }.count == 1)
        #expect(statuses.filter { $0.contains("duplicate") }.count == 15)
        #expect(try database.query("SELECT count(*) FROM public.users WHERE clerk_id = $1", user) == [["1"]])
    }
}

/// A payload from the repository's `fixtures/` folder.
func repositoryFixture(_ name: String) throws -> [UInt8] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return Array(try Data(contentsOf: root.appendingPathComponent("fixtures").appendingPathComponent(name)))
}

@Suite struct WarmUpTests {
    @Test("the warm-up statement writes nothing")
    func warmUpWritesNothing() throws {
        let database = try TestDatabase()
        let answer = try database.query(Statements.warmUp)
        #expect(answer == [["warm"]])
        #expect(try database.query("SELECT count(*) FROM clerk_webhook.deliveries") == [["0"]])
        #expect(try database.query("SELECT count(*) FROM public.users") == [["0"]])
    }
}
