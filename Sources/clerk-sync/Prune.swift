import ArgumentParser
import ClerkWebhookCore
import ClerkWebhookSystem

/// Removes old ledger entries and recorded failures, which otherwise grow forever and keep every
/// delivery's email and name.
struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete ledger entries and recorded failures older than a retention period.",
        discussion: """
            The ledger keeps each delivery (with its email and name, for replay) and its svix id, which \
            is how a retried delivery is recognised. Svix retries for about 27 hours, so the retention \
            must be at least 2d; past it, a delivery sent again is still judged by the ordering and \
            tombstone rules (it reports `stale`). The users table is never touched. Deletes run in \
            batches of \(Prune.batchSize) rows, each its own short transaction.

            Example (cron, daily at 03:00):
              0 3 * * * clerk-sync prune --older-than 30d
            """
    )

    static let batchSize = 5_000
    static let minimum = Duration(argument: "2d")!

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Retention: delete what was received longer ago than this (at least 2d).")
    var olderThan = Duration(argument: "30d")!

    @Flag(help: "Only count what would be deleted.")
    var dryRun = false

    func validate() throws {
        if olderThan.seconds < Self.minimum.seconds {
            throw ValidationError(
                "--older-than must be at least 2d: Svix retries a delivery for about 27 hours, and the ledger must recognise every retry"
            )
        }
    }

    func run() throws {
        let connection = try database.connect()
        let cutoffRow = try connection.execute(
            PlannedStatement(sql: AdminStatements.pruneCutoff, parameters: [String(olderThan.seconds)])
        ).first
        guard let epoch = cutoffRow?[0] ?? nil, let shown = cutoffRow?[1] ?? nil else {
            throw CommandError("the database returned no cutoff")
        }
        let scope = "received before \(shown) UTC"
        if dryRun {
            let counts = try connection.execute(PlannedStatement(sql: AdminStatements.prunable, parameters: [epoch]))
            let deliveries = counts.first?[0] ?? nil ?? "0"
            let failures = counts.first?[1] ?? nil ?? "0"
            print("would delete \(deliveries) ledger entries and \(failures) recorded failures \(scope)")
            return
        }
        let deliveries = try deleteInBatches(AdminStatements.pruneDeliveries, before: epoch, connection)
        let failures = try deleteInBatches(AdminStatements.pruneRejections, before: epoch, connection)
        print("deleted \(deliveries) ledger entries and \(failures) recorded failures \(scope)")
    }

    /// Runs `sql` until a batch deletes fewer rows than the batch size; returns the total.
    private func deleteInBatches(_ sql: String, before epoch: String, _ connection: PostgresConnection) throws -> Int {
        var total = 0
        while true {
            let rows = try connection.execute(
                PlannedStatement(sql: sql, parameters: [epoch, String(Self.batchSize)]))
            let deleted = (rows.first?.first ?? nil).flatMap { Int($0) } ?? 0
            total += deleted
            if deleted < Self.batchSize { return total }
        }
    }
}
