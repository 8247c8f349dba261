import ArgumentParser
import ClerkWebhookCore
import ClerkWebhookSystem

/// One screen for cron and monitors: exits non-zero when something needs attention.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the database, the migrations and recent deliveries; exit 1 when something needs attention.",
        discussion: """
            Needs attention: the database is unreachable, migrations are pending or the sync function \
            is missing, a signed delivery failed in the last hour, or (with --max-age) no delivery \
            arrived for that long.

            Example (cron, every 5 minutes; notify-ops is yours):
              */5 * * * * clerk-sync status --max-age 1d >/dev/null || notify-ops
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The migrations directory (default: $CLERK_SYNC_MIGRATIONS_DIR or supabase/migrations).")
    var dir: String?

    @Option(help: "Flag when the newest delivery is older than this (e.g. 1d).")
    var maxAge: Duration?

    func run() throws {
        var problems: [String] = []
        let connection: PostgresConnection
        do {
            connection = try database.connect()
            print("database: reachable")
        } catch {
            print("database: unreachable (\(error))")
            throw ExitCode(1)
        }

        // A row means the function exists (`ok`, or `denied` for a role that may not run it).
        let installed = try !connection.execute(PlannedStatement(sql: Statements.ping, parameters: [])).isEmpty
        let directory = dir ?? ProcessEnvironment.variables()["CLERK_SYNC_MIGRATIONS_DIR"] ?? "supabase/migrations"
        if let files = try? MigrationFile.all(in: directory), let applied = try appliedMigrations(connection) {
            let pending = files.filter { applied[$0.version] == nil }
            let pushed = files.filter { applied[$0.version]?.isPushedBySupabase == true }.count
            print(
                "migrations: \(files.count - pending.count) applied"
                    + (pushed > 0 ? " (\(pushed) \(AppliedMigration.pushedBySupabase))" : "")
                    + ", \(pending.count) pending")
            if !pending.isEmpty { problems.append("\(pending.count) migration(s) pending: run clerk-sync migrate") }
        } else {
            print(
                "migrations: no record (applied outside clerk-sync?); sync function \(installed ? "installed" : "missing")"
            )
        }
        guard installed else {
            problems.append("clerk_webhook.apply_user_event is missing: run clerk-sync migrate")
            return try finish(problems)
        }

        let counts = try connection.execute(PlannedStatement(sql: AdminStatements.outcomeCounts, parameters: []))
        print("deliveries (last hour / last day):")
        for outcome in ["applied", "stale", "ignored", "rejected"] {
            let row = counts.first { $0.first == outcome }
            print(
                "  \(outcome.padding(toLength: 9, withPad: " ", startingAt: 0)) \(row?[1] ?? "0") / \(row?[2] ?? "0")")
            if outcome == "rejected", let lastHour = row?[1], lastHour != "0" {
                problems.append("\(lastHour) signed deliveries failed in the last hour: see clerk-sync events --failed")
            }
        }
        let ages = try connection.execute(PlannedStatement(sql: AdminStatements.deliveryAges, parameters: [])).first
        if let seconds = (ages?[0]).flatMap({ Int($0) }) {
            print("newest delivery: \(seconds) s ago")
            if let maxAge, seconds > maxAge.seconds { problems.append("no delivery for \(seconds) s") }
            if let oldest = (ages?[1]).flatMap({ Int($0) }) {
                print("oldest ledger entry: \(oldest / 86_400) d ago (clerk-sync prune --older-than 30d keeps 30 days)")
            }
        } else {
            print("newest delivery: none yet")
            if maxAge != nil { problems.append("no delivery recorded yet") }
        }
        try finish(problems)
    }

    private func finish(_ problems: [String]) throws {
        if problems.isEmpty {
            print("status: ok")
            return
        }
        for problem in problems { print("needs attention: \(problem)") }
        throw ExitCode(1)
    }
}
