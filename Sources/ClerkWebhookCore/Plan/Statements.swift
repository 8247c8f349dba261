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

    /// Re-applies a ledger entry (`clerk-sync replay`): the same function and rules, without the
    /// duplicate check (a NULL svix id), so only the ordering, tombstone and email rules decide.
    /// Parameter: the svix id.
    public static let replayDelivery = """
        SELECT clerk_webhook.apply_user_event(NULL, event_type, action, clerk_id, event_updated_at_ms, email, name)
        FROM clerk_webhook.deliveries WHERE svix_id = $1
        """

    /// Forces one user to Clerk's current state (`clerk-sync resync`): clears the row's tombstone and
    /// ordering stamp, then applies the snapshot through `apply_user_event`, all in one statement.
    /// Parameters: Clerk user id, `updated_at` in ms, primary email, name.
    public static let resyncUser = "SELECT clerk_webhook.resync_user($1, $2::bigint, $3, $4)"

    /// Applies a user from Clerk's Backend API whose `updated_at` equals the row's but whose email
    /// or name differ (two changes in one millisecond, the webhooks applied out of order): as an
    /// upsert event, except that the row carrying that same stamp is overwritten too; a newer row
    /// or a tombstone is left alone ('stale'). Parameters as for `resyncUser`.
    public static let applyUserSnapshot = "SELECT clerk_webhook.apply_user_snapshot($1, $2::bigint, $3, $4)"

    /// Warms a fresh server backend up before the first delivery arrives (`clerk_webhook.warm_up`,
    /// callable by `clerk_webhook_writer`): the sync function loaded and compiled, lookups on the two
    /// tables it writes planned, which builds the backend's caches of them and their indexes
    /// (measured: the first delivery's statement 1.98–2.08 → 0.86–0.91 ms, median of 300 fresh
    /// connections). Reads only; nothing is locked or written.
    public static let warmUp = "SELECT clerk_webhook.warm_up()"

    /// A round trip that proves the database answers and the sync function is installed: `ok` when
    /// the connection's role may execute it, `denied` when it may not, no row when it is missing.
    public static let ping = """
        SELECT CASE WHEN has_function_privilege(f, 'EXECUTE') THEN 'ok' ELSE 'denied' END \
        FROM (SELECT to_regprocedure('clerk_webhook.apply_user_event(text,text,text,text,bigint,text,text)') AS f) p \
        WHERE f IS NOT NULL
        """
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
    /// Plans the forced apply of a user fetched from Clerk's Backend API (`clerk-sync resync`).
    public static func resync(_ user: ClerkUser) -> PlannedStatement { userCall(Statements.resyncUser, user) }

    /// Plans the apply of a user fetched from Clerk's Backend API over a row that carries the same
    /// `updated_at` with other data (`ReconcileAction.correct`).
    public static func snapshot(_ user: ClerkUser) -> PlannedStatement { userCall(Statements.applyUserSnapshot, user) }

    /// A call of one of the functions that take a Backend API user: id, `updated_at` in ms, email, name.
    private static func userCall(_ sql: String, _ user: ClerkUser) -> PlannedStatement {
        PlannedStatement(
            sql: sql,
            parameters: [user.id, String(user.snapshot.updatedAtMillis), user.snapshot.email, user.snapshot.name])
    }

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

/// The SQL of `clerk-sync`'s operator commands (migrations, ledger listings, status).
public enum AdminStatements {
    /// Serializes concurrent `clerk-sync migrate` runs (session lock: use a direct connection).
    public static let lockMigrations = "SELECT pg_advisory_lock(hashtext('clerk-sync migrate'))"
    public static let unlockMigrations = "SELECT pg_advisory_unlock(hashtext('clerk-sync migrate'))"

    /// Where `clerk-sync migrate` records what it applied.
    public static let createMigrationsTable = """
        CREATE SCHEMA IF NOT EXISTS clerk_webhook;
        CREATE TABLE IF NOT EXISTS clerk_webhook.schema_migrations (
            version text PRIMARY KEY,
            name text NOT NULL,
            checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    /// Applied migrations: version, name, checksum, applied_at; NULL rows when the table is missing.
    public static let appliedMigrations = """
        SELECT version, name, checksum, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS')
        FROM clerk_webhook.schema_migrations ORDER BY version
        """

    /// Whether the migrations table exists ('t'/'f').
    public static let migrationsTableExists =
        "SELECT to_regclass('clerk_webhook.schema_migrations') IS NOT NULL"

    /// Whether the Supabase CLI's migration history exists ('t'/'f'): `supabase db push` records
    /// there the versions it applied.
    public static let supabaseHistoryExists =
        "SELECT to_regclass('supabase_migrations.schema_migrations') IS NOT NULL"

    /// The versions `supabase db push` applied.
    public static let supabaseHistory = "SELECT version FROM supabase_migrations.schema_migrations"

    /// Parameters: version, name, checksum.
    public static let recordMigration =
        "INSERT INTO clerk_webhook.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"

    public static let begin = "BEGIN"
    public static let commit = "COMMIT"
    public static let rollback = "ROLLBACK"

    /// The synced columns of every row with a real Clerk id (the seed's default is the text 'NULL'),
    /// or of one when $1 is not NULL: clerk_id, email, name, deleted ('t'/'f'), clerk_updated_at_ms.
    public static let syncedUsers = """
        SELECT clerk_id, email, name, deleted_at IS NOT NULL, clerk_updated_at_ms::text
        FROM public.users
        WHERE clerk_id IS NOT NULL AND clerk_id <> 'NULL' AND ($1::text IS NULL OR clerk_id = $1)
        """

    /// Up to three live users other than $1, most recently changed first: the ones `ensure` and
    /// `resync` ask Clerk about before a 404 soft-deletes a live row.
    public static let otherLiveUsers = """
        SELECT clerk_id FROM public.users
        WHERE deleted_at IS NULL AND clerk_id IS NOT NULL AND clerk_id <> 'NULL' AND clerk_id <> $1
        ORDER BY updated_at DESC NULLS LAST LIMIT 3
        """

    /// Ledger entries newer than $1 seconds (any age when NULL), of Clerk id $3 (any when NULL),
    /// newest first, at most $2. Times in UTC, marked `Z`, as in the webhook's log lines.
    public static let deliveriesSince = """
        SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), svix_id, event_type, clerk_id,
               outcome
        FROM clerk_webhook.deliveries
        WHERE ($1::double precision IS NULL OR received_at > now() - make_interval(secs => $1::double precision))
          AND ($3::text IS NULL OR clerk_id = $3)
        ORDER BY received_at DESC LIMIT $2::integer
        """

    /// Recorded failures, with the same filters as `deliveriesSince`.
    public static let rejectionsSince = """
        SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), svix_id, coalesce(event_type, '-'),
               coalesce(clerk_id, '-'), http_status::text, reason, coalesce(sqlstate, '-')
        FROM clerk_webhook.rejections
        WHERE ($1::double precision IS NULL OR received_at > now() - make_interval(secs => $1::double precision))
          AND ($3::text IS NULL OR clerk_id = $3)
        ORDER BY received_at DESC LIMIT $2::integer
        """

    /// Per outcome: deliveries in the last hour and the last day, plus recorded failures as
    /// outcome 'rejected'.
    public static let outcomeCounts = """
        SELECT outcome,
               count(*) FILTER (WHERE received_at > now() - interval '1 hour')::text,
               count(*)::text
        FROM (
            SELECT outcome, received_at FROM clerk_webhook.deliveries WHERE received_at > now() - interval '1 day'
            UNION ALL
            SELECT 'rejected', received_at FROM clerk_webhook.rejections WHERE received_at > now() - interval '1 day'
        ) recent
        GROUP BY outcome ORDER BY outcome
        """

    /// The cutoff of `clerk-sync prune`: now minus $1 seconds, as epoch seconds (what the deletes
    /// take, so every batch uses the same instant) and as UTC text (what the operator reads).
    public static let pruneCutoff = """
        SELECT (extract(epoch FROM now()) - $1::double precision)::text,
               to_char((now() - make_interval(secs => $1::double precision)) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
        """

    /// How many ledger entries and recorded failures were received before the cutoff $1 (epoch
    /// seconds): what `clerk-sync prune --dry-run` reports.
    public static let prunable = """
        SELECT (SELECT count(*) FROM clerk_webhook.deliveries WHERE received_at < to_timestamp($1::double precision))::text,
               (SELECT count(*) FROM clerk_webhook.rejections WHERE received_at < to_timestamp($1::double precision))::text
        """

    /// Deletes at most $2 ledger entries received before the cutoff $1 (epoch seconds); returns how
    /// many. Batches keep each transaction short on a large ledger.
    public static let pruneDeliveries = pruneBatch(table: "clerk_webhook.deliveries", key: "svix_id")

    /// The same for recorded failures.
    public static let pruneRejections = pruneBatch(table: "clerk_webhook.rejections", key: "id")

    private static func pruneBatch(table: String, key: String) -> String {
        """
        WITH gone AS (
            DELETE FROM \(table) WHERE \(key) IN (
                SELECT \(key) FROM \(table)
                WHERE received_at < to_timestamp($1::double precision) LIMIT $2::integer)
            RETURNING 1)
        SELECT count(*)::text FROM gone
        """
    }

    /// Seconds since the newest and since the oldest ledger entry (NULLs when the ledger is empty).
    public static let deliveryAges = """
        SELECT floor(extract(epoch FROM now() - max(received_at)))::bigint::text,
               floor(extract(epoch FROM now() - min(received_at)))::bigint::text
        FROM clerk_webhook.deliveries
        """
}
