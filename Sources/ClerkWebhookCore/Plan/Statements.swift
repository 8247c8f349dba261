/// Every SQL text the programs send, in one place. Values always travel as `$n` parameters.
/// The logic itself lives in the migration-installed function `clerk_webhook.apply_user_event`
/// (`supabase/migrations/`), so each delivery is one statement: atomic, one round trip, and free of
/// session state, which keeps it safe behind PgBouncer/Supavisor in transaction mode.
public enum Statements {
    /// Applies one event and records its svix id in the ledger; returns the outcome.
    /// Parameters: svix id, event type, action (`upsert`/`delete`/`ignore`), Clerk user id,
    /// `updated_at` in ms, primary email, name.
    public static let applyUserEvent =
        "SELECT clerk_webhook.apply_user_event($1, $2, $3, $4, $5::bigint, $6, $7)"

    /// Records a signed delivery that could not be applied (best effort, never for unsigned requests).
    /// Parameters: svix id, event type, Clerk id, HTTP status, reason, SQLSTATE.
    public static let recordRejection =
        "SELECT clerk_webhook.record_rejection($1, $2, $3, $4::integer, $5, $6)"

    /// A round trip that proves the database answers and the sync function is installed.
    public static let ping =
        "SELECT 'ok' WHERE to_regprocedure('clerk_webhook.apply_user_event(text,text,text,text,bigint,text,text)') IS NOT NULL"
}

/// One statement ready to execute: SQL text plus positional text parameters (`nil` = SQL NULL).
public struct PlannedStatement: Equatable, Sendable {
    public var sql: String
    public var parameters: [String?]

    public init(sql: String, parameters: [String?]) {
        self.sql = sql
        self.parameters = parameters
    }

    /// Plans the single statement that applies `event`, delivered as message `svixID`.
    public static func apply(_ event: ClerkEvent, svixID: String?) -> PlannedStatement {
        let action: String
        var updatedAt: String?
        var email: String?
        var name: String?
        switch event.change {
        case .upsert(let user):
            action = "upsert"
            updatedAt = String(user.updatedAtMillis)
            email = user.email
            name = user.name
        case .delete:
            action = "delete"
        case .ignore:
            action = "ignore"
        }
        return PlannedStatement(
            sql: Statements.applyUserEvent,
            parameters: [svixID, event.type, action, event.objectID, updatedAt, email, name]
        )
    }
}

extension PlannedStatement {
    /// Plans the best-effort record of a signed delivery that was refused or failed.
    public static func rejection(
        svixID: String, event: ClerkEvent?, status: Int, reason: String, sqlState: String?
    ) -> PlannedStatement {
        PlannedStatement(
            sql: Statements.recordRejection,
            parameters: [svixID, event?.type, event?.objectID, String(status), reason, sqlState])
    }
}

/// What applying an event did, as reported by `clerk_webhook.apply_user_event`.
public enum SyncOutcome: String, Equatable, Sendable {
    /// The row now reflects the event.
    case applied
    /// The row already reflects newer information (or is already deleted); nothing changed.
    case stale
    /// This svix id was applied before; nothing changed.
    case duplicate
    /// Not a user event; recorded, no user change.
    case ignored
}
