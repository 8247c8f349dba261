import ArgumentParser
import ClerkWebhookCore
import ClerkWebhookSystem

/// Brings `public.users` to Clerk's truth when webhooks were missed.
struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare every Clerk user with the table and apply the difference through the webhook's rules.",
        discussion: """
            Lists all users (GET /v1/users, oldest first, --page-size per request, pages overlapping so \
            users deleted during the run cannot hide others), upserts each one \
            through the same function as the webhook (older snapshots never overwrite newer rows; \
            tombstones stay), then soft-deletes live rows whose user Clerk no longer has, each confirmed \
            first with GET /v1/users/{id} (404). Nothing is written until the listing is complete, nor \
            at all when that would soft-delete every live user in the table or more than 10 % of them \
            (and more than 10) — a key of another Clerk instance looks like that — unless \
            --allow-mass-delete. Needs \
            CLERK_SECRET_KEY (or CLERK_SECRET_KEY_FILE) and DATABASE_URL. Exit 1 when anything failed.

            Example (nightly, from cron):
              15 3 * * * clerk-sync reconcile >>/var/log/clerk-reconcile.log 2>&1
              clerk-sync reconcile --dry-run
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var api: ClerkAPIOptions

    @Flag(help: "Print what would be created, updated and deleted (counts and ids) without writing.")
    var dryRun = false

    @Flag(
        help: """
            Soft-delete even when that is every live user in the table, or more than 10 % of them (and \
            more than 10): without it reconcile stops first, writing nothing.
            """)
    var allowMassDelete = false

    @Option(
        help: """
            Users per list request, 1...500. Each request after the first reads again the last 20 users \
            of the one before (half a page when smaller; none with 1), to notice users deleted meanwhile.
            """)
    var pageSize = ClerkAPI.maximumPageSize

    func validate() throws {
        guard (1...ClerkAPI.maximumPageSize).contains(pageSize) else {
            throw ValidationError("--page-size must be between 1 and \(ClerkAPI.maximumPageSize)")
        }
    }

    func run() throws {
        let client = try api.client()
        var sync = UserSync(connection: try database.connect(), dryRun: dryRun)
        let rows = try sync.rows()
        let users = try listAllUsers(client)

        let listed = Set(users.map(\.id))
        let candidates = deletionCandidates(rows: rows.values.sorted { $0.clerkID < $1.clerkID }, listed: listed)
        // Before any write: a run that would empty the table is most likely aimed at the wrong instance.
        if !allowMassDelete,
            let refusal = massDeletionRefusal(
                candidates: candidates.count, liveRows: rows.values.filter { !$0.deleted }.count)
        {
            guard dryRun else { throw CommandError(refusal + " Nothing was written.") }
            note(refusal)
        }
        for user in users { sync.apply(user, row: rows[user.id]) }
        for row in candidates {
            try sync.confirmAndApply(row.clerkID, row: row, client: client)
        }

        print(dryRun ? sync.report.dryRunDiff : "reconcile: " + sync.report.summary)
        if !dryRun, !sync.report.tombstoned.isEmpty {
            print(
                "deleted here but present in Clerk: " + sync.report.tombstoned.joined(separator: " ")
                    + " (clerk-sync resync restores them)")
        }
        note("\(client.requestCount) Backend API requests")
        if sync.report.hasFailures { throw ExitCode(1) }
    }

    // The complete listing, or an error before anything is written: a partial list would make
    // every unlisted user look deleted.
    private func listAllUsers(_ client: ClerkAPIClient) throws -> [ClerkUser] {
        do {
            var total: Int?
            let (status, body) = try client.get(ClerkAPI.userCountPath)
            if status == 200 { total = try ClerkAPI.decodeCount(body) }
            var listing = UserListing(pageSize: pageSize)
            while !listing.isComplete {
                let offset = listing.nextOffset
                let (status, body) = try client.get(ClerkAPI.userListPath(limit: pageSize, offset: offset))
                guard status == 200 else {
                    throw CommandError(
                        "GET /users answered HTTP \(status)" + (ClerkAPI.errorSummary(body).map { " (\($0))" } ?? ""))
                }
                let stepsBack = listing.stepsBack
                try listing.receive(try ClerkAPI.decodeUserList(body))
                if listing.stepsBack > stepsBack {
                    note(
                        "the page at offset \(offset) does not join the previous one (users deleted meanwhile): reading from offset \(listing.nextOffset) again"
                    )
                } else {
                    note("listed \(listing.users.count)" + (total.map { " of \($0)" } ?? "") + " users")
                }
            }
            return listing.users
        } catch {
            throw CommandError("reconcile stopped while listing users, nothing was written: \(error)")
        }
    }
}

/// Applies one user on demand: the sign-up vs webhook race.
struct Ensure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch users from Clerk and apply them through the webhook's rules (404 = deleted).",
        discussion: """
            What an application server runs when a signed-in user has no row yet. The same ordering, \
            tombstone and email rules as the webhook apply, so it never undoes newer data. Prints one \
            line per user: created, updated, deleted, unchanged or failed. A 404 soft-deletes the user's \
            row. A key of another Clerk instance answers 404 for everyone, so a 404 writes nothing \
            and fails for an id without a row, and for a live row when Clerk answers 404 for the \
            table's most recently changed other live users too (up to three asked). Exit 1 when any failed.

            Example:
              clerk-sync ensure user_2abc...
            """
    )

    @OptionGroup var users: UserFetch

    func run() throws { try users.run(force: false) }
}

/// Forces users to Clerk's state for manual repair.
struct Resync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Force users to what Clerk holds now, whatever the table holds (manual repair).",
        discussion: """
            Unlike ensure and reconcile this ignores the ordering stamp and revives a tombstoned row \
            when Clerk still has the user; a 404 from Clerk soft-deletes the row (and, as for ensure, \
            fails without a write for an id without one, or for a live row when Clerk answers 404 for the \
            table's most recently changed other live users too). Each forced write is \
            logged as one JSON line on stderr. Exit 1 when any failed.

            Example:
              clerk-sync resync user_2abc... user_2def...
            """
    )

    @OptionGroup var users: UserFetch

    func run() throws { try users.run(force: true) }
}

/// What `ensure` and `resync` share: the connections and the user ids to fetch and apply.
struct UserFetch: ParsableArguments {
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var api: ClerkAPIOptions

    @Argument(help: ArgumentHelp("Clerk user ids (user_...).", valueName: "user-id"))
    var userIDs: [String]

    func validate() throws {
        if userIDs.isEmpty { throw ValidationError("give at least one Clerk user id") }
    }

    /// Fetches each user and applies it (forced for resync); one `USER_ID: result` line each.
    func run(force: Bool) throws {
        let client = try api.client()
        var sync = UserSync(connection: try database.connect(), dryRun: false, force: force)
        sync.checksInstance = true
        for id in userIDs {
            let before = sync.report
            try sync.confirmAndApply(id, row: try sync.rows(id: id)[id], client: client)
            for result in ReconcileResult.allCases where sync.report.count(result) > before.count(result) {
                print("\(id): \(result.rawValue)")
            }
        }
        if userIDs.count > 1 { print(sync.report.summary) }
        if sync.report.hasFailures { throw ExitCode(1) }
    }
}

/// Carries out the fallbacks' writes, one apply statement per user, and keeps the report.
struct UserSync {
    let connection: PostgresConnection
    let dryRun: Bool
    var force = false
    /// For ensure and resync, which have no listing to compare with (reconcile has): before a 404
    /// soft-deletes a live row, Clerk must know one of the table's other live users.
    var checksInstance = false
    private var instanceConfirmed = false
    private(set) var report = ReconcileReport()

    init(connection: PostgresConnection, dryRun: Bool, force: Bool = false) {
        self.connection = connection
        self.dryRun = dryRun
        self.force = force
    }

    /// The rows with a Clerk id (or just `id`'s), by Clerk id.
    func rows(id: String? = nil) throws -> [String: SyncedRow] {
        let result = try connection.execute(PlannedStatement(sql: AdminStatements.syncedUsers, parameters: [id]))
        var rows: [String: SyncedRow] = [:]
        for columns in result {
            if let row = SyncedRow(columns: columns) { rows[row.clerkID] = row }
        }
        return rows
    }

    /// Fetches `id` from Clerk and applies what it finds: the user, or a delete on 404.
    mutating func confirmAndApply(_ id: String, row: SyncedRow?, client: ClerkAPIClient) throws {
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try client.get(ClerkAPI.userPath(id))
        } catch let failed as ClerkAPIClient.Failed {
            fail(id, failed.description)
            return
        }
        switch answer.status {
        case 200:
            do {
                let user = try ClerkAPI.decodeUser(answer.body)
                guard user.id == id else { return fail(id, "Clerk answered with another user's id") }
                apply(user, row: row)
            } catch {
                fail(id, error.description)
            }
        case 404:
            // Only a row can be soft-deleted. A tombstone for an id the table never had would keep a
            // user.created for it out for good, and the likelier causes are a mistyped id or a key of
            // another Clerk instance; a deleted user's own user.deleted delivery still writes one.
            guard let row else {
                return fail(
                    id,
                    "Clerk has no such user (HTTP 404) and the table has no row for it, so nothing was written;"
                        + " check the id, and that CLERK_SECRET_KEY belongs to the Clerk instance whose"
                        + " webhooks this table receives")
            }
            if checksInstance, !row.deleted, !instanceConfirmed,
                let refusal = try instanceRefusal(excluding: id, client: client)
            {
                return fail(id, refusal)
            }
            delete(id, row: row)
        default:
            fail(
                id,
                "GET /users/{id} answered HTTP \(answer.status)"
                    + (ClerkAPI.errorSummary(answer.body).map { " (\($0))" } ?? ""))
        }
    }

    /// Why a 404 for `id` must not soft-delete its live row, or `nil`: a key of another Clerk
    /// instance (sk_test_ for sk_live_) answers 404 for every user, and a delete is final for every
    /// later event. Clerk knowing any of the table's other live users settles it for the run; a
    /// table without any cannot tell, and the delete goes ahead.
    private mutating func instanceRefusal(excluding id: String, client: ClerkAPIClient) throws -> String? {
        let others = try connection.execute(PlannedStatement(sql: AdminStatements.otherLiveUsers, parameters: [id]))
            .compactMap { $0.first ?? nil }
        for other in others {
            let status: Int
            do {
                status = try client.get(ClerkAPI.userPath(other)).status
            } catch let failed as ClerkAPIClient.Failed {
                return "could not check that Clerk knows the table's other users, so nothing was written: \(failed)"
            }
            switch status {
            case 200:
                instanceConfirmed = true
                return nil
            case 404:
                continue
            default:
                return "could not check that Clerk knows the table's other users (GET /users/{id} answered"
                    + " HTTP \(status)), so nothing was written"
            }
        }
        guard !others.isEmpty else { return nil }
        return "Clerk answers 404 for this user and for the table's \(others.count) most recently changed other"
            + " live users too (\(others.joined(separator: " "))), so nothing was written: CLERK_SECRET_KEY is"
            + " probably another Clerk instance's (sk_test_ for sk_live_); clerk-sync reconcile --dry-run"
            + " shows what Clerk still has"
    }

    /// Applies Clerk's `user` to its row under the webhook's rules (or forced, for resync).
    mutating func apply(_ user: ClerkUser, row: SyncedRow?) {
        if force { return resync(user, row: row) }
        let action = ReconcileAction.planned(for: user, row: row)
        if action == .tombstoned { return report.recordTombstoned(user.id) }
        guard action.writes else { return report.record(.unchanged, user.id) }
        guard !dryRun else { return report.record(action.result(after: .applied), user.id) }
        let statement =
            action == .correct
            ? PlannedStatement.snapshot(user)
            : .apply(ClerkEvent(type: "reconcile", objectID: user.id, change: .upsert(user.snapshot)), svixID: nil)
        if let outcome = execute(statement, id: user.id) {
            report.record(action.result(after: outcome), user.id)
        }
    }

    /// Soft-deletes `id`'s row, as a `user.deleted` delivery would.
    mutating func delete(_ id: String, row: SyncedRow) {
        if row.deleted { return report.record(.unchanged, id) }
        guard !dryRun else { return report.record(.deleted, id) }
        let event = ClerkEvent(type: "reconcile", objectID: id, change: .delete)
        if let outcome = execute(PlannedStatement.apply(event, svixID: nil), id: id) {
            report.record(outcome == .applied ? .deleted : .unchanged, id)
            if force { log(id, outcome == .applied ? .deleted : .unchanged) }
        }
    }

    private mutating func resync(_ user: ClerkUser, row: SyncedRow?) {
        guard execute(PlannedStatement.resync(user), id: user.id) != nil else { return }
        let result: ReconcileResult
        if let row {
            let same =
                !row.deleted && row.email == user.snapshot.email && row.name == user.snapshot.name
                && row.clerkUpdatedAtMillis == user.snapshot.updatedAtMillis
            result = same ? .unchanged : .updated
        } else {
            result = .created
        }
        report.record(result, user.id)
        log(user.id, result)
    }

    private mutating func execute(_ statement: PlannedStatement, id: String) -> SyncOutcome? {
        do {
            let answer = try connection.execute(statement).first?.first ?? nil
            guard let outcome = answer.flatMap(SyncOutcome.init(rawValue:)) else {
                fail(id, "the sync function answered \(answer ?? "nothing")")
                return nil
            }
            return outcome
        } catch {
            fail(id, "database error [\(error.sqlState ?? "none")]" + (error.loggableMessage.map { ": " + $0 } ?? ""))
            return nil
        }
    }

    private mutating func fail(_ id: String, _ reason: String) {
        report.record(.failed, id)
        note("\(id): failed: \(reason)")
    }

    // Forced writes leave a trace in the same JSON-lines format as the webhook's log.
    private func log(_ id: String, _ result: ReconcileResult) {
        let line = LogLine(
            level: .info, message: "user resynced from Clerk",
            fields: [("clerk.user_id", .text(id)), ("outcome", .text(result.rawValue)), ("forced", .text("true"))])
        ProcessEnvironment.write(line.rendered(unixMillis: ProcessEnvironment.unixMillis()), to: 2)
    }
}
