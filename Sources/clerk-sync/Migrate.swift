import ArgumentParser
import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation

/// One migration file: `<version>_<name>.sql`.
struct MigrationFile {
    var version: String
    var name: String
    var path: String
    var sql: String
    var checksum: String

    /// The `.sql` files of `directory` in file-name order.
    static func all(in directory: String) throws -> [MigrationFile] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw CommandError(
                "cannot read the migrations directory \(directory) (set --dir or CLERK_SYNC_MIGRATIONS_DIR)")
        }
        return try names.filter { $0.hasSuffix(".sql") }.sorted().map { file in
            let path = directory + "/" + file
            guard let data = FileManager.default.contents(atPath: path), let sql = String(data: data, encoding: .utf8)
            else { throw CommandError("cannot read \(path)") }
            let stem = file.dropLast(".sql".count)
            let version = stem.prefix { $0 != "_" }
            let checksum = lowercaseHex(OpenSSLCrypto().sha256([Array(data)]))
            return MigrationFile(
                version: String(version), name: String(stem.dropFirst(version.count + 1)), path: path, sql: sql,
                checksum: checksum)
        }
    }
}

/// A migration the database has: when clerk-sync applied it and the file's checksum then, or
/// neither for one `supabase db push` applied (the Supabase CLI records only the version).
struct AppliedMigration {
    var checksum: String?
    var at: String

    static let pushedBySupabase = "by supabase db push"

    /// Whether `supabase db push`, not clerk-sync, applied it (so no checksum was recorded).
    var isPushedBySupabase: Bool { checksum == nil }

    /// Whether `file` no longer has the checksum recorded when clerk-sync applied it.
    func changed(in file: MigrationFile) -> Bool { checksum.map { $0 != file.checksum } ?? false }
}

/// Which migrations a database has applied, by version: recorded by clerk-sync, or in the Supabase
/// CLI's history; `nil` when it has neither record.
func appliedMigrations(_ connection: PostgresConnection) throws -> [String: AppliedMigration]? {
    func exists(_ sql: String) throws -> Bool {
        try connection.execute(PlannedStatement(sql: sql, parameters: [])).first?.first == "t"
    }
    var applied: [String: AppliedMigration] = [:]
    let recorded = try exists(AdminStatements.migrationsTableExists)
    if recorded {
        for row in try connection.execute(PlannedStatement(sql: AdminStatements.appliedMigrations, parameters: [])) {
            applied[row[0] ?? ""] = AppliedMigration(checksum: row[2] ?? "", at: row[3] ?? "")
        }
    }
    // Best effort: a role that may not read the Supabase CLI's history just does not see it.
    var pushed: [String] = []
    if (try? exists(AdminStatements.supabaseHistoryExists)) == true,
        let rows = try? connection.execute(PlannedStatement(sql: AdminStatements.supabaseHistory, parameters: []))
    {
        pushed = rows.compactMap { $0.first ?? nil }
    }
    for version in pushed where applied[version] == nil {
        applied[version] = AppliedMigration(checksum: nil, at: AppliedMigration.pushedBySupabase)
    }
    return recorded || !pushed.isEmpty ? applied : nil
}

/// Applies supabase/migrations in order and records them.
struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply supabase/migrations/*.sql in file-name order; --status lists applied and pending.",
        discussion: """
            Each file runs in its own transaction and is recorded in clerk_webhook.schema_migrations. \
            Safe to run twice and from two hosts at once (an advisory lock serializes runs), so use a \
            direct connection, not a transaction-mode pooler. The files stay plain SQL: `supabase db push` \
            applies them too (they are idempotent), and what it recorded in supabase_migrations counts \
            as applied here.

            Example:
              DATABASE_URL=postgresql://postgres:...@db.<ref>.supabase.co:5432/postgres \\
                clerk-sync migrate
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The migrations directory (default: $CLERK_SYNC_MIGRATIONS_DIR or supabase/migrations).")
    var dir: String?

    @Flag(help: "List applied and pending migrations without applying anything.")
    var status = false

    func run() throws {
        let directory = dir ?? ProcessEnvironment.variables()["CLERK_SYNC_MIGRATIONS_DIR"] ?? "supabase/migrations"
        let files = try MigrationFile.all(in: directory)
        let connection = try database.connect()
        if status {
            let applied = try appliedMigrations(connection) ?? [:]
            for file in files {
                if let record = applied[file.version] {
                    let changed = record.changed(in: file) ? "  (file changed since it was applied)" : ""
                    print("applied  \(record.at)  \(file.version)_\(file.name)\(changed)")
                } else {
                    print("pending                       \(file.version)_\(file.name)")
                }
            }
            return
        }

        try connection.execute(PlannedStatement(sql: AdminStatements.lockMigrations, parameters: []))
        defer { _ = try? connection.execute(PlannedStatement(sql: AdminStatements.unlockMigrations, parameters: [])) }
        try connection.run(script: AdminStatements.createMigrationsTable)
        // Read after taking the lock: another host may just have applied some.
        let applied = try appliedMigrations(connection) ?? [:]
        var count = 0
        for file in files where applied[file.version] == nil {
            do {
                try connection.execute(PlannedStatement(sql: AdminStatements.begin, parameters: []))
                try connection.run(script: file.sql)
                try connection.execute(
                    PlannedStatement(
                        sql: AdminStatements.recordMigration, parameters: [file.version, file.name, file.checksum]))
                try connection.execute(PlannedStatement(sql: AdminStatements.commit, parameters: []))
            } catch {
                _ = try? connection.execute(PlannedStatement(sql: AdminStatements.rollback, parameters: []))
                throw CommandError("\(file.version)_\(file.name).sql failed and was rolled back: \(error)")
            }
            print("applied  \(file.version)_\(file.name)")
            count += 1
        }
        for file in files where applied[file.version]?.changed(in: file) == true {
            print("warning: \(file.version)_\(file.name).sql changed after it was applied; it is not re-run")
        }
        print(
            count == 0
                ? "migrations are current (\(files.count) applied)" : "applied \(count) of \(files.count) migrations")
    }
}
