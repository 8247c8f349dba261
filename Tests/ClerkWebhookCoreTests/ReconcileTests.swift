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
        #expect(ReconcileAction.planned(for: user, row: row(email: "newer@example.com", at: 300)) == .upToDate)
        #expect(ReconcileAction.planned(for: user, row: row(deleted: true, at: 100)) == .tombstoned)
    }

    @Test("a stale answer from the database counts as unchanged")
    func results() {
        #expect(ReconcileAction.create.result(after: .applied) == .created)
        #expect(ReconcileAction.update.result(after: .applied) == .updated)
        #expect(ReconcileAction.refresh.result(after: .applied) == .unchanged)
        #expect(ReconcileAction.update.result(after: .stale) == .unchanged)
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
