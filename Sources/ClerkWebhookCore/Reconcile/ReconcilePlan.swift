/// What `public.users` holds for one Clerk id, as the fallbacks compare it with Clerk.
public struct SyncedRow: Equatable, Sendable {
    public var clerkID: String
    public var email: String?
    public var name: String?
    /// Whether `deleted_at` is set (a tombstone).
    public var deleted: Bool
    /// `clerk_updated_at_ms`: the Clerk `updated_at` the row reflects; `nil` for rows the sync never wrote.
    public var clerkUpdatedAtMillis: Int64?

    public init(clerkID: String, email: String?, name: String?, deleted: Bool, clerkUpdatedAtMillis: Int64?) {
        self.clerkID = clerkID
        self.email = email
        self.name = name
        self.deleted = deleted
        self.clerkUpdatedAtMillis = clerkUpdatedAtMillis
    }

    /// Decodes a row of `AdminStatements.syncedUsers`.
    public init?(columns: [String?]) {
        guard columns.count == 5, let id = columns[0] else { return nil }
        self.init(
            clerkID: id, email: columns[1], name: columns[2], deleted: columns[3] == "t",
            clerkUpdatedAtMillis: columns[4].flatMap { Int64($0) })
    }
}

/// What applying a Clerk user to its row would do, decided before any write.
public enum ReconcileAction: Equatable, Sendable {
    /// No row yet: the apply inserts one.
    case create
    /// Clerk holds newer data that differs in email or name.
    case update
    /// Clerk's `updated_at` is newer but email and name are the same: the apply only advances the
    /// row's ordering stamp (so an older delayed webhook cannot win later). Reported as unchanged.
    case refresh
    /// The row carries this very `updated_at` but another email or name: two changes in one
    /// millisecond whose webhooks were applied in the wrong order. Clerk's snapshot is current, so
    /// it is written over the row (`PlannedStatement.snapshot`) if the row still carries that stamp.
    case correct
    /// The row already reflects this `updated_at` with the same email and name, or a newer one:
    /// nothing to write.
    case upToDate
    /// The row is a tombstone but the user exists in Clerk. Delete is terminal for the sync, so only
    /// `clerk-sync resync` restores it.
    case tombstoned

    /// Compares Clerk's user with the row the table holds for it.
    public static func planned(for user: ClerkUser, row: SyncedRow?) -> ReconcileAction {
        guard let row else { return .create }
        if row.deleted { return .tombstoned }
        let same = row.email == user.snapshot.email && row.name == user.snapshot.name
        if let stamp = row.clerkUpdatedAtMillis, stamp >= user.snapshot.updatedAtMillis {
            return stamp == user.snapshot.updatedAtMillis && !same ? .correct : .upToDate
        }
        return same ? .refresh : .update
    }

    /// Whether carrying out this action sends a statement.
    public var writes: Bool { self != .upToDate && self != .tombstoned }

    /// How the report counts this action once the apply answered `outcome`; a `stale` answer
    /// means newer data (a webhook) got there first, so nothing changed.
    public func result(after outcome: SyncOutcome) -> ReconcileResult {
        guard outcome == .applied else { return .unchanged }
        switch self {
        case .create: return .created
        case .update, .correct: return .updated
        case .refresh, .upToDate, .tombstoned: return .unchanged
        }
    }
}

/// One line of the final report.
public enum ReconcileResult: String, CaseIterable, Sendable {
    case created, updated, deleted, unchanged, failed
}

/// Counts and ids per result, for the report at the end of `reconcile`, `ensure` and `resync`.
public struct ReconcileReport: Sendable {
    public private(set) var ids: [ReconcileResult: [String]] = [:]
    /// Users present in Clerk whose row is a tombstone (reported, never revived by reconcile).
    public private(set) var tombstoned: [String] = []

    public init() {}

    public mutating func record(_ result: ReconcileResult, _ clerkID: String) {
        ids[result, default: []].append(clerkID)
    }

    public mutating func recordTombstoned(_ clerkID: String) {
        tombstoned.append(clerkID)
        record(.unchanged, clerkID)
    }

    public func count(_ result: ReconcileResult) -> Int { ids[result]?.count ?? 0 }

    public var hasFailures: Bool { count(.failed) > 0 }

    /// `created 2, updated 1, deleted 0, unchanged 7, failed 0`.
    public var summary: String {
        ReconcileResult.allCases.map { "\($0.rawValue) \(count($0))" }.joined(separator: ", ")
    }

    /// The dry-run diff: what would be created, updated and deleted, with ids; no emails or names.
    public var dryRunDiff: String {
        var lines: [String] = []
        for (result, verb) in [(ReconcileResult.created, "create"), (.updated, "update"), (.deleted, "delete")] {
            let list = ids[result] ?? []
            lines.append("would \(verb) \(list.count)" + (list.isEmpty ? "" : ": " + list.joined(separator: " ")))
        }
        lines.append("unchanged \(count(.unchanged))")
        if !tombstoned.isEmpty {
            lines.append(
                "deleted here but present in Clerk \(tombstoned.count): " + tombstoned.joined(separator: " ")
                    + " (clerk-sync resync restores them)")
        }
        if hasFailures { lines.append("failed \(count(.failed)): " + (ids[.failed] ?? []).joined(separator: " ")) }
        return lines.joined(separator: "\n")
    }
}

/// Rows that no Clerk user accounts for: live rows with a real Clerk id that the complete listing
/// did not contain. Each is confirmed with `GET /users/{id}` before it is deleted, because a user
/// created while the listing ran (or skipped when offsets shifted) is missing from it too.
public func deletionCandidates(rows: [SyncedRow], listed: Set<String>) -> [SyncedRow] {
    rows.filter { !$0.deleted && !listed.contains($0.clerkID) }
}

/// Why reconcile should not soft-delete `candidates` of the table's `liveRows` live Clerk users
/// without the operator's say-so, or `nil`. A delete is terminal for every later event, and a
/// `CLERK_SECRET_KEY` of another Clerk instance (development instead of production) lists none of
/// the table's users: every row would look deleted in Clerk, each confirmed by a 404.
public func massDeletionRefusal(candidates: Int, liveRows: Int) -> String? {
    let limit = max(massDeletionFloor, liveRows / 10)
    let everyone = liveRows >= 2 && candidates == liveRows
    guard everyone || candidates > limit else { return nil }
    return "reconcile would soft-delete \(candidates) of the table's \(liveRows) live users"
        + (everyone ? " (every one: Clerk listed none of them)" : " (more than \(limit))")
        + ", and a delete is final for every later event. A CLERK_SECRET_KEY of another Clerk instance"
        + " (sk_test_ instead of sk_live_) looks like this. Check the key, see the ids with --dry-run, and"
        + " pass --allow-mass-delete if Clerk really lost these users."
}

/// Up to this many deletions pass without --allow-mass-delete, whatever the table's size.
private let massDeletionFloor = 10
