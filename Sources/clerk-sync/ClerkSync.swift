import ArgumentParser
import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation

/// `clerk-sync`: operator tooling around the webhook, over the same library and SQL.
@main
struct ClerkSync: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clerk-sync",
        abstract:
            "Companion tooling for clerk-webhook: sign and send test deliveries, migrate, inspect, replay, reconcile with Clerk.",
        discussion: """
            Settings come from the environment, like the webhook's: DATABASE_URL (or DATABASE_URL_FILE), \
            CLERK_WEBHOOK_SIGNING_SECRET (or CLERK_WEBHOOK_SECRET, or ..._FILE); reconcile, ensure and \
            resync also CLERK_SECRET_KEY (or CLERK_SECRET_KEY_FILE) and optionally CLERK_API_URL.

            Example:
              clerk-sync migrate && clerk-sync status
            """,
        subcommands: [
            Sign.self, Send.self, Migrate.self, Events.self, Replay.self, Status.self, Prune.self, Reconcile.self,
            Ensure.self, Resync.self,
        ]
    )
}

/// Where a command finds the database.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp("libpq URI or key=value string (default: $DATABASE_URL).", valueName: "url"))
    var url: String?

    func connect() throws -> PostgresConnection {
        if let url { return try PostgresConnection(url: url) }
        let environment = ProcessEnvironment.variables()
        try requireUsable(["DATABASE_URL"], in: environment)
        return try PostgresConnection(url: environment["DATABASE_URL"])
    }
}

/// Stops with one line when one of `names` was set through a `NAME_FILE` that cannot be used.
func requireUsable(_ names: [String], in environment: [String: String]) throws {
    do {
        try FileBackedSetting.check(names, in: environment)
    } catch {
        throw CommandError(error.message)
    }
}

/// A failure worth one readable line and a non-zero exit.
struct CommandError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}

/// Parses durations such as `90s`, `15m`, `1h`, `2d` into seconds.
struct Duration: ExpressibleByArgument, CustomStringConvertible {
    var seconds: Int
    /// As the operator wrote it (what `--help` shows as a default).
    var description: String

    init?(argument: String) {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard let unit = argument.last, let factor = units[unit], let count = Int(argument.dropLast()), count > 0
        else { return nil }
        seconds = count * factor
        description = argument
    }
}
