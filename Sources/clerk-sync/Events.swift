import ArgumentParser
import ClerkWebhookCore
import ClerkWebhookSystem

/// Lists what the ledger recorded.
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List deliveries the ledger recorded (or, with --failed, the signed ones that failed).",
        discussion: """
            Columns: received at (UTC), svix id, event type, Clerk id, outcome. With --failed: received \
            at, svix id, event type, Clerk id, HTTP status, reason, SQLSTATE. No emails or names. \
            With --user, one user's history of any age (unless --since is given): what to read first \
            when a row looks wrong.

            Example:
              clerk-sync events --since 1h
              clerk-sync events --since 2d --failed
              clerk-sync events --user user_2g7np7Hrk0SN6kj5EDMLDaKNL0S
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "How far back: 90s, 15m, 1h, 2d (default: 1h; with --user, any age).")
    var since: Duration?

    @Option(help: "Only this Clerk user id.")
    var user: String?

    @Flag(help: "List signed deliveries that were refused (400) or failed (500) instead.")
    var failed = false

    @Option(help: "At most this many rows.")
    var limit = 100

    func run() throws {
        let connection = try database.connect()
        let sql = failed ? AdminStatements.rejectionsSince : AdminStatements.deliveriesSince
        let window = since ?? (user == nil ? Duration(argument: "1h") : nil)
        let rows = try connection.execute(
            PlannedStatement(sql: sql, parameters: [window.map { String($0.seconds) }, String(limit), user]))
        for row in rows {
            print(row.map { $0 ?? "-" }.joined(separator: "  "))
        }
        if rows.isEmpty { print(failed ? "no failed deliveries found" : "no deliveries found") }
    }
}

/// Re-applies ledger entries through the same function and rules.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-apply recorded deliveries through the same one-statement path and rules.",
        discussion: """
            The duplicate check is skipped; ordering, tombstones and email rules still decide, so a \
            delivery the row already reflects reports `stale`. Useful after restoring the users table.

            Example:
              clerk-sync replay msg_2g7np7Hrk0SN6kj5EDMLDaKNL0S
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("Svix message ids from `clerk-sync events`.", valueName: "svix-id"))
    var svixIDs: [String]

    func validate() throws {
        if svixIDs.isEmpty { throw ValidationError("give at least one svix id") }
    }

    func run() throws {
        let connection = try database.connect()
        var missing = 0
        for id in svixIDs {
            let rows = try connection.execute(PlannedStatement(sql: Statements.replayDelivery, parameters: [id]))
            if let outcome = rows.first?.first ?? nil {
                print("\(id): \(outcome)")
            } else {
                print("\(id): not in the ledger")
                missing += 1
            }
        }
        if missing > 0 { throw ExitCode(1) }
    }
}
