import ClerkWebhookCore
import Testing

@Suite struct ConnectionStringTests {
    /// The message `forLibpq` refuses `url` with (the test fails when it is accepted).
    func refusal(of url: String) throws -> String {
        try #require(#expect(throws: ConfigurationError.self) { try ConnectionString.forLibpq(url) }).message
    }

    @Test(
        "Prisma's client parameters and schema=public are dropped; everything else reaches libpq as written",
        arguments: [
            (
                "postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres?pgbouncer=true&connection_limit=1",
                "postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres"
            ),
            (
                "postgres://u:pw@h/db?sslmode=require&pool_timeout=10&schema=public&application_name=x",
                "postgres://u:pw@h/db?sslmode=require&application_name=x"
            ),
            ("postgres://u:pw@h/db?statement_cache_size=0&socket_timeout=5", "postgres://u:pw@h/db"),
            ("postgres://u:pw@h/db?schema=app", "postgres://u:pw@h/db?schema=app"),
            ("postgres://u:pw@h/db?sslmode=require", "postgres://u:pw@h/db?sslmode=require"),
            // A ? in the password is the password's: libpq's parameters start after the @.
            ("postgresql://u:p?pgbouncer=true@h/db", "postgresql://u:p?pgbouncer=true@h/db"),
            ("host=h pgbouncer=true", "host=h pgbouncer=true"),
            ("postgresql:///db?host=/tmp&pgbouncer=true", "postgresql:///db?host=/tmp"),
        ])
    func forLibpq(url: String, expected: String) throws {
        #expect(try ConnectionString.forLibpq(url) == expected)
    }

    @Test(
        "a password written without escaping its @, / or % is refused with the fix, never its value",
        arguments: [
            ("postgresql://u:Qz8w@Vb3n@db.ref.supabase.co:5432/postgres", "write an @ in the password as %40"),
            (
                "postgresql://u:Qz8w/Vb3n@db.ref.supabase.co:5432/postgres",
                "write a / in the user name or password as %2F"
            ),
            ("postgresql://u:Qz8w%zzVb3n@db.ref.supabase.co:5432/postgres", "write a % in the password as %25"),
            ("postgresql://u:Qz8w%4@h/db", "write a % in the password as %25"),
            ("postgres://h/db?password=Qz8w%G0Vb3n", "write a % in the password as %25"),
            // The / comes before the @, so libpq finds no password: host u, port Qz8w, then parameters.
            ("postgresql://u:Qz8w?sslmode=require/Vb3n@h/db", "write a / in the user name or password as %2F"),
            ("postgresql://h1:5432,h2:Qz8w/db", "write a / in the user name or password as %2F"),
        ])
    func malformed(url: String, fix: String) throws {
        let problem = try refusal(of: url)
        #expect(problem.hasSuffix(fix))
        #expect(!problem.contains("Qz8w") && !problem.contains("Vb3n"))
    }

    @Test(
        "not a connection string at all (libpq would take it for a database name): refused, saying what it looks like",
        arguments: [
            ("https://Qz8wVb3n.supabase.co", "is the Supabase project's API URL, not its database"),
            ("http://Qz8wVb3n.supabase.co/rest/v1", "is the Supabase project's API URL, not its database"),
            ("jdbc:postgresql://h:5432/Qz8wVb3n", "drop the jdbc: prefix of a JDBC URL"),
            ("postgresq://u:Qz8wVb3n@h/db", "it starts with postgresq://, and a URI must start with postgresql://"),
            ("mysql://u:Qz8wVb3n@h/db", "it starts with mysql://"),
            // With parameters (an = further on), the scheme still tells.
            ("https://Qz8wVb3n.supabase.co/?apikey=x", "is the Supabase project's API URL, not its database"),
            ("postgresq://u:Qz8wVb3n@h/db?sslmode=require", "it starts with postgresq://"),
            ("PostgreSQL://u:Qz8wVb3n@h/db", "in lower case only; write postgresql://"),
            ("Qz8wVb3n", "neither a postgresql:// URI nor key=value settings"),
        ])
    func notAConnectionString(url: String, explanation: String) throws {
        let problem = try refusal(of: url)
        #expect(problem.contains(explanation), "\(problem)")
        #expect(!problem.contains("Qz8w") && !problem.contains("Vb3n"))
    }

    @Test(
        "well-formed URIs and key=value strings pass",
        arguments: [
            "postgresql://u:Qz8w%40Vb3n%2F%25@db.ref.supabase.co:5432/postgres?sslmode=require",
            "postgresql://u:p?#:[x]@[::1]:5432/db", "postgresql:///db?host=/var/run/postgresql&user=me@corp",
            "postgres://h", "postgresql://[::1]:5433,h2,h3:/db", "host=h password=a@b/c%zz", "", "  ",
            "dbname=app",
        ])
    func wellFormed(url: String) {
        #expect(throws: Never.self) { try ConnectionString.forLibpq(url) }
    }

    @Test("libpq's message keeps the pieces it may quote and loses every other")
    func redacting() {
        let keep: Set<String> = ["127.0.0.1", "port", "=", "postgres"]
        let cases = [
            (
                #"connection to server at "127.0.0.1", port 1 failed: Connection refused"#,
                #"connection to server at "127.0.0.1", port 1 failed: Connection refused"#
            ),
            (
                #"connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "postgres""#,
                #"connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "postgres""#
            ),
            (#"invalid percent-encoded token: "Qz8w%zzVb3n""#, #"invalid percent-encoded token: "…""#),
            (
                #"missing "=" after "Vb3n" in connection info string"#,
                #"missing "=" after "…" in connection info string"#
            ),
            (
                #"invalid integer value "Qz8w" for connection option "port""#,
                #"invalid integer value "…" for connection option "port""#
            ),
            (#"could not translate host name "Vb3n@h" to address"#, #"could not translate host name "…" to address"#),
            // A quote inside a piece does not end it; nor does a piece without its closing quote.
            (#"invalid percent-encoded token: "Qz8w"Vb3n%zz""#, #"invalid percent-encoded token: "…""#),
            (#"no pg_hba.conf entry for host "10.0.0.1", user "Qz8w"#, #"no pg_hba.conf entry for host "…", user "…""#),
        ]
        for (message, expected) in cases {
            #expect(ConnectionString.redacting(message, keeping: keep) == expected)
        }
    }
}
