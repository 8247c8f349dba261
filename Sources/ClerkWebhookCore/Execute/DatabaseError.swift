/// A failure reported by PostgreSQL or libpq, with the facts needed to decide on a retry.
public struct DatabaseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The SQLSTATE, or `nil` when libpq failed before the server answered (e.g. cannot connect).
    public var sqlState: String?
    /// libpq's message. May quote values for some errors, so it goes to the log only in redacted form.
    public var message: String
    /// Whether the connection is unusable afterwards.
    public var connectionLost: Bool

    public init(sqlState: String?, message: String, connectionLost: Bool = false) {
        self.sqlState = sqlState
        self.message = message
        self.connectionLost = connectionLost
    }

    /// Whether retrying the same delivery later can succeed: connection trouble, serialization
    /// failures, deadlocks, timeouts, lock waits, shutdowns, resource exhaustion, a read-only standby.
    public var isTransient: Bool {
        guard let state = sqlState else { return true }
        if connectionLost { return true }
        switch state {
        case "40001", "40P01", "57014", "55P03", "57P01", "57P02", "57P03", "25006":
            return true
        default:
            return state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("58")
        }
    }

    /// The message, when it is safe to log: data exceptions (22) and integrity violations (23)
    /// can quote values such as an email, so theirs is withheld.
    public var loggableMessage: String? {
        if let state = sqlState, state.hasPrefix("22") || state.hasPrefix("23") { return nil }
        return message
    }

    /// Whether the server says a table, function or schema that the migrations install does not
    /// exist: the database was never migrated (or a migration is missing), which retrying alone
    /// does not fix.
    public var meansSchemaMissing: Bool {
        sqlState == "42P01" || sqlState == "42883" || sqlState == "3F000"
    }

    public var description: String {
        "database error" + (sqlState.map { " [\($0)]" } ?? "") + ": " + message
            + (meansSchemaMissing ? " (is the database migrated? run clerk-sync migrate)" : "")
    }
}

/// Runs one planned statement and returns the first column of its first row.
public protocol StatementExecutor {
    func execute(_ statement: PlannedStatement) throws(DatabaseError) -> String?
}
