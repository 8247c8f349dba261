import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The connection a worker keeps between requests: what happens to it while it sits idle.
@Suite struct PostgresConnectionTests {
    @Test("closed by the server while idle: the next delivery connects again and is applied")
    func reconnectsAfterServerClose() throws {
        let database = try TestDatabase()
        let webhook = try Deliverer(databaseURL: database.url)
        let user = "user_" + uniqueToken()
        #expect(webhook.deliver(ClerkPayload.user(id: user, email: nil, updatedAt: 1)) == .accepted(.applied))
        for stamp in Int64(2)...4 {
            // The executor's one connection, closed by the server; gone once it said goodbye.
            let pids = try database.otherClients()
            #expect(pids.count == 1)
            #expect(try database.terminate(pids))
            let update = ClerkPayload.user("user.updated", id: user, email: nil, first: "N\(stamp)", updatedAt: stamp)
            #expect(webhook.deliver(update) == .accepted(.applied))
        }
        #expect(try database.user(user)?.name == "N4")
    }

    @Test("read-only when it connected (maintenance, a standby): 503; once writable again, the next delivery applies")
    func reconnectsAfterReadOnly() throws {
        let database = try TestDatabase()
        let readOnly = { (on: Bool) throws -> Void in
            try database.connection.execute(
                PlannedStatement(
                    sql:
                        #"ALTER DATABASE "\#(database.name)" SET default_transaction_read_only = \#(on ? "on" : "off")"#,
                    parameters: []))
        }
        try readOnly(true)
        let webhook = try Deliverer(databaseURL: database.url)
        let user = "user_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: nil, first: "Ro", updatedAt: 1)
        let id = "msg_" + uniqueToken()
        #expect(webhook.deliver(body, id: id) == .unavailable)
        try readOnly(false)
        #expect(webhook.deliver(body, id: id) == .accepted(.applied))
        #expect(try database.user(user)?.name == "Ro")
    }

    @Test("the application's own migrations of public.users while a worker keeps its connection: still applied")
    func usersTableChangedUnderneath() throws {
        let database = try TestDatabase()
        let webhook = try Deliverer(databaseURL: database.url)
        let user = "user_" + uniqueToken()
        #expect(
            webhook.deliver(ClerkPayload.user(id: user, email: nil, first: "A", updatedAt: 1)) == .accepted(.applied))
        // Columns added before and after the ones the function reads, one dropped, one retyped.
        for (stamp, change) in [
            "ADD COLUMN avatar_url text", "ADD COLUMN plan text NOT NULL DEFAULT 'free'", "DROP COLUMN avatar_url",
            "ALTER COLUMN name TYPE varchar(200)",
        ].enumerated() {
            try database.connection.execute(
                PlannedStatement(sql: "ALTER TABLE public.users " + change, parameters: []))
            let update = ClerkPayload.user(
                "user.updated", id: user, email: "m\(stamp)-\(user)@example.com", first: "M\(stamp)",
                updatedAt: Int64(stamp + 2))
            #expect(webhook.deliver(update) == .accepted(.applied), "after \(change)")
            let created = "user_" + uniqueToken()
            #expect(
                webhook.deliver(ClerkPayload.user(id: created, email: nil, updatedAt: 1)) == .accepted(.applied),
                "a new user after \(change)")
        }
        #expect(try database.user(user)?.name == "M3")
    }

    @Test("a kept connection is reused between deliveries, over TLS too (nothing arrives unasked on it)")
    func keptConnectionIsReused() throws {
        let database = try TestDatabase()
        for url in [database.url, try TestEnvironment.tlsDatabaseURL(database.name)] {
            let webhook = try Deliverer(databaseURL: url)
            let user = "user_" + uniqueToken()
            var servers: Set<String> = []
            for stamp in Int64(1)...4 {
                let body = ClerkPayload.user(id: user, email: nil, first: "K\(stamp)", updatedAt: stamp)
                #expect(webhook.deliver(body) == .accepted(.applied))
                servers.formUnion(try database.otherClients())
            }
            #expect(servers.count == 1, "\(url.contains("sslmode") ? "TLS" : "socket"): served by \(servers)")
            webhook.executor.disconnect()
            #expect(waitUntil(seconds: 5) { (try? database.otherClients()) == [] })
        }
    }

    @Test("TCP keepalives on by default (60 s idle, every 10 s, 3 probes); the connection string may set its own")
    func keepalives() throws {
        let database = try TestDatabase()
        let tcp = try TestEnvironment.tlsDatabaseURL(database.name)
        #expect(try Self.keepaliveOptions(PostgresConnection(url: tcp)) == [1, 60, 10, 3])
        let own = try PostgresConnection(url: tcp + "&keepalives_idle=30&keepalives_interval=5&keepalives_count=2")
        #expect(Self.keepaliveOptions(own) == [1, 30, 5, 2])
        #expect(try Self.keepaliveOptions(PostgresConnection(url: tcp + "&keepalives=0")).first == 0)
    }

    /// SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT of the connection's socket.
    static func keepaliveOptions(_ connection: PostgresConnection) -> [Int32] {
        [
            (SOL_SOCKET, SO_KEEPALIVE), (Int32(IPPROTO_TCP), TCP_KEEPIDLE), (Int32(IPPROTO_TCP), TCP_KEEPINTVL),
            (Int32(IPPROTO_TCP), TCP_KEEPCNT),
        ].map { level, name in
            var value: Int32 = -1
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(connection.socketDescriptor, level, name, &value, &length) == 0 ? value : -1
        }
    }
}
