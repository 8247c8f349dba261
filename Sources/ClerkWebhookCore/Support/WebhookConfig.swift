/// Settings of the webhook binary, read once at start from the environment.
public struct WebhookConfig: Equatable, Sendable {
    /// The signing secrets as configured (never logged).
    public var signingSecrets: String
    /// The variable the secrets came from, for error messages.
    public var signingSecretsVariable: String
    /// A libpq URI or key=value string; `nil` lets libpq's `PG*` variables apply.
    public var databaseURL: String?
    /// FastCGI mode: requests served before exiting; `nil` means no limit.
    public var maximumRequests: Int?
    /// The least severe log level written.
    public var logLevel: LogLevel
    /// A delivery's statement is cancelled (503, retried by Svix) after this long; `nil`: never.
    public var statementTimeoutMillis: Int?

    /// 8 s: with the 5 s connect timeout and 1 s for the cancel to land, a delivery answers within
    /// 14 s, inside Svix's 15 s.
    public static let defaultStatementTimeoutMillis = 8000

    /// Reads the configuration from environment variables.
    public init(environment: [String: String]) throws(ConfigurationError) {
        func value(_ name: String) -> String? {
            guard let raw = environment[name] else { return nil }
            let trimmed = trimmingSpaces(raw)
            return trimmed.isEmpty ? nil : trimmed
        }
        try FileBackedSetting.check(
            ["CLERK_WEBHOOK_SIGNING_SECRET", "CLERK_WEBHOOK_SECRET", "DATABASE_URL"], in: environment)
        if let secrets = value("CLERK_WEBHOOK_SIGNING_SECRET") {
            signingSecrets = secrets
            signingSecretsVariable = "CLERK_WEBHOOK_SIGNING_SECRET"
        } else if let secrets = value("CLERK_WEBHOOK_SECRET") {
            signingSecrets = secrets
            signingSecretsVariable = "CLERK_WEBHOOK_SECRET"
        } else {
            throw ConfigurationError(
                "CLERK_WEBHOOK_SIGNING_SECRET is not set: every delivery is refused until the endpoint's"
                    + " signing secret (whsec_...) from the Clerk Dashboard is configured"
            )
        }
        databaseURL = value("DATABASE_URL")
        switch value("CLERK_WEBHOOK_MAX_REQUESTS") {
        case nil: maximumRequests = 1
        case let text?:
            guard let count = Int(text), count >= 0 else {
                throw ConfigurationError("CLERK_WEBHOOK_MAX_REQUESTS must be a whole number (0 = no limit)")
            }
            maximumRequests = count == 0 ? nil : count
        }
        switch value("CLERK_WEBHOOK_STATEMENT_TIMEOUT_MS") {
        case nil: statementTimeoutMillis = Self.defaultStatementTimeoutMillis
        case let text?:
            guard let millis = Int(text), millis >= 0, millis <= 3_600_000 else {
                throw ConfigurationError(
                    "CLERK_WEBHOOK_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds (0 = no limit)")
            }
            statementTimeoutMillis = millis == 0 ? nil : millis
        }
        switch value("CLERK_WEBHOOK_LOG_LEVEL") {
        case nil: logLevel = .info
        case let text?:
            guard let level = LogLevel(rawValue: text.lowercased()) else {
                throw ConfigurationError("CLERK_WEBHOOK_LOG_LEVEL must be one of debug, info, warn, error, off")
            }
            logLevel = level
        }
    }
}
