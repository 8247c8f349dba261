import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

/// Deliveries racing each other, each worker with its own connection, through the real pipeline
/// (verify, decode, plan, one statement): duplicates have one effect and any order converges.
@Suite struct ConcurrencyTests {
    /// Runs `work` on `count` threads released together; returns when all are done.
    func onThreads(_ count: Int, _ work: @escaping @Sendable (Int) -> Void) {
        let started = LockedCounter()
        let done = LockedCounter()
        let gate = LockedCounter()
        for index in 0..<count {
            Thread {
                started.increment()
                while gate.value == 0 { usleep(100) }
                work(index)
                done.increment()
            }.start()
        }
        while started.value < count { usleep(100) }
        gate.increment()
        while done.value < count { usleep(1000) }
    }

    @Test("the same delivery 50 times at once: applied once, 49 duplicates, one row", arguments: TestDatabase.routes)
    func fiftyDuplicates(route: String) throws {
        let database = try TestDatabase()
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: "fifty-\(user)@example.com", first: "Fifty", updatedAt: 10)
        let id = "msg_" + uniqueToken()
        let url = try database.url(via: route)
        let outcomes = LockedData()
        let deliverers = PerThread(try (0..<50).map { _ in try Deliverer(databaseURL: url) })
        onThreads(50) { index in
            let response = deliverers.values[index].deliver(body, id: id)
            outcomes.append(Data("\(response.status) \(response.body)\n".utf8))
        }
        let lines = String(decoding: outcomes.get(), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 50)
        #expect(lines.filter { $0.contains(#""outcome":"applied""#) }.count == 1)
        #expect(lines.filter { $0.contains(#""outcome":"duplicate""#) }.count == 49)
        #expect(try database.query("SELECT count(*) FROM public.users WHERE clerk_id = $1", user) == [["1"]])
        #expect(try database.query("SELECT count(*) FROM clerk_webhook.deliveries WHERE svix_id = $1", id) == [["1"]])
        #expect(
            try database.user(user) == UserRow(email: "fifty-\(user)@example.com", name: "Fifty", clerkUpdatedAt: 10))
        print("duplicates (\(route)): 1 delivery sent 50 times concurrently, 1 applied, 49 duplicate, 1 row")
    }

    /// A Clerk history: per user a create, 0–3 updates, maybe a delete; some deleted users' emails
    /// are taken by a new sign-up after the delete. Times come from one clock, as in Clerk.
    struct History {
        struct Event {
            var id: String
            var body: [UInt8]
        }

        var events: [Event] = []
        /// The final state per Clerk id: email, name, deleted, last upsert's updated_at.
        var truth: [String: UserRow] = [:]

        init(users: Int, resignups: Int, token: String) {
            var generator = SystemRandomNumberGenerator()
            var clock: Int64 = 1_700_000_000_000
            var deletedEmails: [(String, String)] = []  // (clerk id, email)
            for index in 0..<users {
                let user = "user_\(token)_\(index)"
                let updates = Int.random(in: 0...3, using: &generator)
                var final = UserRow()
                for version in 0...updates {
                    clock += Int64.random(in: 1...5, using: &generator)
                    let email = "u\(index)-v\(version)-\(token)@example.com"
                    let name = "User\(index) v\(version)"
                    let parts = name.split(separator: " ").map(String.init)
                    events.append(
                        Event(
                            id: "msg_\(user)_\(version)",
                            body: ClerkPayload.user(
                                version == 0 ? "user.created" : "user.updated", id: user, email: email, first: parts[0],
                                last: parts[1], updatedAt: clock)))
                    final = UserRow(email: email, name: name, clerkUpdatedAt: clock)
                }
                if Int.random(in: 0..<5, using: &generator) == 0 {
                    clock += 1
                    events.append(Event(id: "msg_\(user)_deleted", body: ClerkPayload.deleted(id: user)))
                    final.deleted = true
                    if let email = final.email { deletedEmails.append((user, email)) }
                }
                truth[user] = final
            }
            // Re-signups: a new user takes a deleted user's address; the tombstone gives it up.
            for (offset, (oldUser, email)) in deletedEmails.prefix(resignups).enumerated() {
                clock += 1
                let user = "user_\(token)_new\(offset)"
                events.append(
                    Event(
                        id: "msg_\(user)_0",
                        body: ClerkPayload.user(id: user, email: email, first: "New\(offset)", updatedAt: clock)))
                truth[user] = UserRow(email: email, name: "New\(offset)", clerkUpdatedAt: clock)
                truth[oldUser]?.email = nil
            }
        }
    }

    @Test("user.deleted arriving while the same user's create is uncommitted: waits for it, then deletes")
    func deleteWaitsForCreate() throws {
        let database = try TestDatabase()
        let user = "user_" + uniqueToken()
        // Another session creates the row and holds its transaction open, as a concurrent
        // user.created delivery would between its insert and its commit.
        let creator = try PostgresConnection(url: database.url)
        try creator.run(
            script:
                #"BEGIN; INSERT INTO public.users (clerk_id, "updatedAt", clerk_updated_at_ms) VALUES ('\#(user)', now(), 1)"#
        )
        let answer = Locked<String?>(nil)
        let finished = LockedCounter()
        let url = database.url
        Thread {
            if let response = try? Deliverer(databaseURL: url).deliver(ClerkPayload.deleted(id: user)) {
                answer.set("\(response.status) \(response.body)")
            }
            finished.increment()
        }.start()
        usleep(300_000)
        #expect(finished.value == 0, "the delete did not wait for the uncommitted create")
        try creator.run(script: "COMMIT")
        while finished.value == 0 { usleep(1000) }
        let applied = WebhookResponse.accepted(.applied)
        #expect(answer.get() == "\(applied.status) \(applied.body)")
        #expect(try database.user(user)?.deleted == true)
    }

    @Test(
        "1,000 users' histories, shuffled, with duplicates, on 8 connections: the table equals Clerk",
        arguments: TestDatabase.routes)
    func randomOrder(route: String) throws {
        let database = try TestDatabase()
        let token = uniqueToken()
        let history = History(users: 1000, resignups: 50, token: token)
        // Svix redelivers: about a third of the events arrive twice (same svix id), all in random order.
        var deliveries = history.events
        deliveries += history.events.filter { _ in Int.random(in: 0..<3) == 0 }
        deliveries.shuffle()
        let queue = deliveries
        let next = LockedCounter()
        let failures = LockedCounter()
        let url = try database.url(via: route)
        let deliverers = PerThread(try (0..<8).map { _ in try Deliverer(databaseURL: url) })
        onThreads(8) { worker in
            while true {
                let index = next.incrementAndGet() - 1
                guard index < queue.count else { return }
                let response = deliverers.values[worker].deliver(queue[index].body, id: queue[index].id)
                if response.status != 200 { failures.increment() }
            }
        }
        #expect(failures.value == 0)

        var mismatches = 0
        let rows = try database.query(
            """
            SELECT clerk_id, email, name, deleted_at IS NOT NULL, clerk_updated_at_ms::text FROM public.users
            WHERE clerk_id LIKE $1
            """, "user_\(token)_%")
        var actual: [String: UserRow] = [:]
        for row in rows {
            actual[row[0]!] = UserRow(
                email: row[1], name: row[2], deleted: row[3] == "t", clerkUpdatedAt: row[4].flatMap { Int64($0) })
        }
        for (user, expected) in history.truth where actual[user] != expected {
            mismatches += 1
            if mismatches <= 5 {
                Issue.record("\(user): expected \(expected), got \(actual[user]?.description ?? "no row")")
            }
        }
        #expect(actual.count == history.truth.count)
        let ledger = try database.query(
            "SELECT count(*) FROM clerk_webhook.deliveries WHERE svix_id LIKE $1", "msg_user_\(token)_%")
        #expect(ledger == [[String(history.events.count)]])
        print(
            "concurrency (\(route)): \(history.truth.count) users, \(history.events.count) events + "
                + "\(deliveries.count - history.events.count) duplicates shuffled on 8 connections, "
                + "\(failures.value) non-200, \(mismatches) users differing from Clerk's final state")
    }
}

/// One value per thread, handed across threads once.
final class PerThread<Value>: @unchecked Sendable {  // Thread i only ever touches values[i].
    let values: [Value]

    init(_ values: [Value]) { self.values = values }
}
