import ArgumentParser
import ClerkWebhookCore
import ClerkWebhookSystem

/// Lists what the ledger recorded.
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List deliveries the ledger recorded (or, with --failed, the signed ones that failed).",
        discussion: """
            Columns: received at (UTC), svix id, event type, Clerk id, outcome. With --failed: received
            at, svix id, event type, Clerk id, HTTP status, reason, SQLSTATE. No emails or names.

            Example:
              clerk-sync events --since 1h
              clerk-sync events --since 2d --failed
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "How far back: 90s, 15m, 1h, 2d.")
    var since = Duration(argument: "1h")!

    @Flag(help: "List signed deliveries that were refused (400) or failed (500) instead.")
    var failed = false

    @Option(help: "At most this many rows.")
    var limit = 100

    func run() throws {
        let connection = try database.connect()
        let sql = failed ? AdminStatements.rejectionsSince : AdminStatements.deliveriesSince
        let rows = try connection.execute(
            PlannedStatement(sql: sql, parameters: [String(since.seconds), String(limit)]))
        for row in rows {
            print(row.map { $0 ?? "-" }.joined(separator: "  "))
        }
        if rows.isEmpty { print(failed ? "no failed deliveries in that period" : "no deliveries in that period") }
    }
}

/// Re-applies ledger entries through the same function and rules.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-apply recorded deliveries through the same one-statement path and rules.",
        discussion: """
            The duplicate check is skipped; ordering, tombstones and email rules still decide, so a
            delivery the row already reflects reports `stale`. Useful after restoring the users table.

            Example:
              clerk-sync replay msg_2g7np7Hrk0SN6kj5EDMLDaKNL0S msg_2g7np7Hrk0SN6kj5EDMLDaKNL0T
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "Svix message ids from `clerk-sync events`.")
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
