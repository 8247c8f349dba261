import ClerkWebhookCore
import Testing

@Suite struct ClerkAPIDecodingTests {
    @Test("a GET /users page decodes to ids, primary emails, names and updated_at")
    func userList() throws {
        let users = try ClerkAPI.decodeUserList(fixture("bapi.users.json"))
        #expect(
            users == [
                ClerkUser(
                    id: "user_2NNEqL2nrIRdJ194ndJqAHwEfxC",
                    snapshot: UserSnapshot(
                        email: "ada@example.com", name: "Ada Lovelace", updatedAtMillis: 1_716_883_400_123)
                ),
                ClerkUser(
                    id: "user_2NNF1phoneOnlyUserXYZabc12",
                    snapshot: UserSnapshot(email: nil, name: nil, updatedAtMillis: 1_716_883_500_000)),
            ])
    }

    @Test("an empty page, a count, an error body")
    func otherShapes() throws {
        #expect(try ClerkAPI.decodeUserList(Array("[]".utf8)).isEmpty)
        #expect(try ClerkAPI.decodeCount(Array(#"{"object":"total_count","total_count":1234}"#.utf8)) == 1234)
        let error =
            #"{"errors":[{"message":"Invalid authentication","long_message":"…","code":"authentication_invalid"}]}"#
        #expect(ClerkAPI.errorSummary(Array(error.utf8)) == "authentication_invalid: Invalid authentication")
        #expect(ClerkAPI.errorSummary(Array("<html>".utf8)) == nil)
    }

    @Test(
        "answers that are not Clerk's shapes are errors",
        arguments: [
            #"{"id":"user_1"}"#, "[1]", #"[{"id":""}]"#, #"[{"id":"user_1"}]"#, #"[{"id":"user_1","updated_at":"x"}]"#,
            "not json",
        ])
    func rejected(body: String) {
        #expect(throws: ClerkAPIError.self) { try ClerkAPI.decodeUserList(Array(body.utf8)) }
    }

    @Test("paths: oldest first, ids percent-encoded")
    func paths() {
        #expect(ClerkAPI.userListPath(limit: 500, offset: 1000) == "/users?limit=500&offset=1000&order_by=created_at")
        #expect(ClerkAPI.userPath("user_2abc") == "/users/user_2abc")
        #expect(ClerkAPI.userPath("../x?y=1") == "/users/..%2Fx%3Fy%3D1")
    }
}

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maximumAttempts: 4, baseDelaySeconds: 1, maximumDelaySeconds: 30)

    @Test("2xx and 404 are used as they are")
    func used() {
        #expect(policy.decide(status: 200, retryAfter: nil, attempt: 1) == .use)
        #expect(policy.decide(status: 404, retryAfter: nil, attempt: 1) == .use)
        #expect(policy.decide(status: 422, retryAfter: nil, attempt: 4) == .use)
    }

    @Test("429 waits Retry-After seconds, capped; dates and nonsense fall back to backoff")
    func rateLimited() {
        #expect(policy.decide(status: 429, retryAfter: "7", attempt: 1) == .retry(afterSeconds: 7))
        #expect(policy.decide(status: 429, retryAfter: "3600", attempt: 1) == .retry(afterSeconds: 30))
        #expect(
            policy.decide(status: 429, retryAfter: "Wed, 21 Oct 2026 07:28:00 GMT", attempt: 2)
                == .retry(afterSeconds: 2))
        #expect(policy.decide(status: 429, retryAfter: "-1", attempt: 3) == .retry(afterSeconds: 4))
        guard case .giveUp = policy.decide(status: 429, retryAfter: "1", attempt: 4) else {
            Issue.record("429 on the last attempt must give up")
            return
        }
    }

    @Test("5xx and no answer back off exponentially, then give up")
    func serverErrors() {
        #expect(policy.decide(status: 500, retryAfter: nil, attempt: 1) == .retry(afterSeconds: 1))
        #expect(policy.decide(status: 503, retryAfter: nil, attempt: 3) == .retry(afterSeconds: 4))
        #expect(policy.decide(status: nil, retryAfter: nil, attempt: 2) == .retry(afterSeconds: 2))
        #expect(policy.decide(status: 502, retryAfter: nil, attempt: 4) == .giveUp("HTTP 502 after 4 attempts"))
        #expect(
            RetryPolicy(maximumAttempts: 30).decide(status: 500, retryAfter: nil, attempt: 20)
                == .retry(afterSeconds: 60))
    }

    @Test("401 and 403 stop the run at once")
    func refused() {
        for status in [401, 403] {
            guard case .stop(let reason) = policy.decide(status: status, retryAfter: nil, attempt: 1) else {
                Issue.record("HTTP \(status) must stop")
                continue
            }
            #expect(reason.contains("CLERK_SECRET_KEY"))
        }
    }
}

@Suite struct ReconcilePlanTests {
    let user = ClerkUser(id: "user_1", snapshot: UserSnapshot(email: "a@example.com", name: "A", updatedAtMillis: 200))

    func row(email: String? = "a@example.com", name: String? = "A", deleted: Bool = false, at: Int64?) -> SyncedRow {
        SyncedRow(clerkID: "user_1", email: email, name: name, deleted: deleted, clerkUpdatedAtMillis: at)
    }

    @Test("each table state maps to one action")
    func actions() {
        #expect(ReconcileAction.planned(for: user, row: nil) == .create)
        #expect(ReconcileAction.planned(for: user, row: row(email: "old@example.com", at: 100)) == .update)
        #expect(ReconcileAction.planned(for: user, row: row(name: nil, at: nil)) == .update)
        #expect(ReconcileAction.planned(for: user, row: row(at: 100)) == .refresh)
        #expect(ReconcileAction.planned(for: user, row: row(at: 200)) == .upToDate)
        #expect(ReconcileAction.planned(for: user, row: row(email: "other@example.com", at: 200)) == .correct)
        #expect(ReconcileAction.planned(for: user, row: row(name: "Other", at: 200)) == .correct)
        #expect(ReconcileAction.planned(for: user, row: row(name: "Other", deleted: true, at: 200)) == .tombstoned)
        #expect(ReconcileAction.planned(for: user, row: row(email: "newer@example.com", at: 300)) == .upToDate)
        #expect(ReconcileAction.planned(for: user, row: row(deleted: true, at: 100)) == .tombstoned)
    }

    @Test("a stale answer from the database counts as unchanged")
    func results() {
        #expect(ReconcileAction.create.result(after: .applied) == .created)
        #expect(ReconcileAction.update.result(after: .applied) == .updated)
        #expect(ReconcileAction.refresh.result(after: .applied) == .unchanged)
        #expect(ReconcileAction.update.result(after: .stale) == .unchanged)
        #expect(ReconcileAction.correct.result(after: .applied) == .updated)
        #expect(ReconcileAction.correct.result(after: .stale) == .unchanged)
        #expect(!ReconcileAction.upToDate.writes && !ReconcileAction.tombstoned.writes)
        #expect(ReconcileAction.correct.writes && ReconcileAction.refresh.writes)
        #expect(ReconcileAction.create.result(after: .stale) == .unchanged)
    }

    @Test("only live rows the complete listing lacks are deletion candidates")
    func candidates() {
        let rows = [
            SyncedRow(clerkID: "user_listed", email: nil, name: nil, deleted: false, clerkUpdatedAtMillis: 1),
            SyncedRow(clerkID: "user_gone", email: nil, name: nil, deleted: false, clerkUpdatedAtMillis: 1),
            SyncedRow(clerkID: "user_tomb", email: nil, name: nil, deleted: true, clerkUpdatedAtMillis: 1),
        ]
        #expect(deletionCandidates(rows: rows, listed: ["user_listed"]).map(\.clerkID) == ["user_gone"])
    }

    @Test("the dry-run diff lists ids, never emails")
    func diff() {
        var report = ReconcileReport()
        report.record(.created, "user_a")
        report.record(.deleted, "user_b")
        report.record(.unchanged, "user_c")
        report.recordTombstoned("user_d")
        #expect(
            report.dryRunDiff == """
                would create 1: user_a
                would update 0
                would delete 1: user_b
                unchanged 2
                deleted here but present in Clerk 1: user_d (clerk-sync resync restores them)
                """)
        #expect(report.summary == "created 1, updated 0, deleted 1, unchanged 2, failed 0")
        #expect(!report.hasFailures)
    }
}

@Suite struct UserListingTests {
    /// "Clerk": users oldest first, and what happens to them after each list request.
    struct List {
        var users: [ClerkUser]
        var afterRequest: [Int: (inout [ClerkUser]) -> Void] = [:]
        private(set) var offsets: [Int] = []

        init(count: Int, afterRequest: [Int: (inout [ClerkUser]) -> Void] = [:]) {
            users = (0..<count).map { Self.user($0) }
            self.afterRequest = afterRequest
        }

        static func user(_ number: Int, updatedAt: Int64 = 1) -> ClerkUser {
            ClerkUser(id: "user_\(number)", snapshot: UserSnapshot(email: nil, name: nil, updatedAtMillis: updatedAt))
        }

        /// Reads the whole list the way reconcile does; returns the ids read.
        mutating func read(pageSize: Int) throws(ClerkAPIError) -> Set<String> {
            var listing = UserListing(pageSize: pageSize)
            while !listing.isComplete {
                let offset = listing.nextOffset
                offsets.append(offset)
                try listing.receive(Array(users.dropFirst(offset).prefix(pageSize)))
                afterRequest[offsets.count]?(&users)
            }
            return Set(listing.users.map(\.id))
        }

        var ids: Set<String> { Set(users.map(\.id)) }
    }

    @Test("an unchanging list: every user once, pages overlapping by 20 (half a small page)")
    func unchanging() throws {
        var list = List(count: 1200)
        #expect(try list.read(pageSize: 500) == list.ids)
        #expect(list.offsets == [0, 480, 960])
        var small = List(count: 12)
        #expect(try small.read(pageSize: 5) == small.ids)
        #expect(small.offsets == [0, 3, 6, 9])
        var single = List(count: 3)
        #expect(try single.read(pageSize: 1) == single.ids)
        #expect(single.offsets == [0, 1, 2, 3])
    }

    @Test("users deleted ahead of the offset between requests hide no one, within the overlap or beyond it")
    func deletionsMidRun() throws {
        // Three of the first page's users deleted after it was read: a gap of 3 > the overlap of 2.
        var list = List(count: 12, afterRequest: [1: { $0.removeSubrange(0..<3) }])
        let read = try list.read(pageSize: 5)
        #expect(read.isSuperset(of: list.ids), "missed: \(list.ids.subtracting(read).sorted())")
        #expect(list.offsets == [0, 3, 0, 3, 6])
        // Within the overlap: one deletion, no step back.
        var within = List(count: 1200, afterRequest: [1: { $0.remove(at: 10) }])
        #expect(try within.read(pageSize: 500).isSuperset(of: within.ids))
        #expect(within.offsets == [0, 480, 960])
        // Many deletions and a few sign-ups: the list now ends before the next offset.
        var shrunk = List(
            count: 10,
            afterRequest: [
                1: { users in
                    users.removeSubrange(0..<5)
                    users.append(contentsOf: (100..<102).map { List.user($0) })
                }
            ])
        let shrunkRead = try shrunk.read(pageSize: 5)
        #expect(shrunkRead.isSuperset(of: shrunk.ids), "missed: \(shrunk.ids.subtracting(shrunkRead).sorted())")
    }

    @Test("a user read twice keeps the newer snapshot; a list that keeps shifting stops the run")
    func newestAndGivingUp() throws {
        var list = List(count: 6, afterRequest: [1: { $0[4] = List.user(4, updatedAt: 9) }])
        var listing = UserListing(pageSize: 5)
        try listing.receive(Array(list.users.prefix(5)))
        list.afterRequest[1]?(&list.users)
        try listing.receive(Array(list.users.dropFirst(listing.nextOffset).prefix(5)))
        #expect(listing.isComplete)
        #expect(listing.users.first { $0.id == "user_4" }?.snapshot.updatedAtMillis == 9)

        var churning = UserListing(pageSize: 5)
        try churning.receive((0..<5).map { List.user($0) })
        var next = 1000
        #expect(throws: ClerkAPIError.self) {
            while !churning.isComplete {
                // Every page holds only users never seen: the list shifts by more than the overlap each time.
                try churning.receive((next..<next + 5).map { List.user($0) })
                next += 5
            }
        }
        #expect(churning.stepsBack == UserListing.maximumStepsBack + 1)
    }

    @Test(
        "mass deletion: every live user, or more than 10 % and more than 10, needs the operator's say-so",
        arguments: [
            (0, 0, false), (1, 1, false), (2, 2, true), (2, 3, false), (10, 11, false), (10, 10, true),
            (11, 50, true), (10, 50, false), (100, 1000, false), (101, 1000, true),
        ])
    func massDeletion(candidates: Int, liveRows: Int, refused: Bool) {
        let refusal = massDeletionRefusal(candidates: candidates, liveRows: liveRows)
        #expect((refusal != nil) == refused)
        if let refusal {
            #expect(refusal.contains("\(candidates) of the table's \(liveRows) live users"))
            #expect(refusal.contains("--allow-mass-delete"))
        }
    }
}
