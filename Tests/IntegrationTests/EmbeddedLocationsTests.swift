import Foundation
import Testing

/// `render.sh --locations`: the webhook's locations included in a server block that already serves
/// an application, the way a host adds a path to the site it has. The webhook behaves as in its own
/// server block, and everything else stays the application's.
@Suite struct EmbeddedLocationsTests {
    @Test(
        "included in an application's server block: the webhook answers as in its own site, every other path is the app's",
        arguments: ["cgi", "warm", "persistent"])
    func includedInExistingServer(mode: String) throws {
        let database = try TestDatabase()
        let deployment = try StandaloneDeployment(mode: mode, databaseURL: database.url, embedded: true)
        let url = deployment.base

        // Before the workers run: the webhook's 503 in JSON, from the included locations alone.
        let user = "user_" + uniqueToken()
        let id = "msg_" + uniqueToken()
        let body = ClerkPayload.user(id: user, email: "embedded-\(user)@example.com", first: "Ada", updatedAt: 5)
        try expectUnavailable(try signedPost(body, url: url, id: id))

        try deployment.startWorkers()
        let applied = try signedPost(body, url: url, id: id)
        #expect(applied.status == 200)
        #expect(applied.body == #"{"ok":true,"outcome":"applied"}"#)
        #expect(try signedPost(body, url: url, id: id).body == #"{"ok":true,"outcome":"duplicate"}"#)
        #expect(
            try database.user(user) == UserRow(email: "embedded-\(user)@example.com", name: "Ada", clerkUpdatedAt: 5))

        // The webhook's own refusals, and nginx's on its behalf, in JSON.
        let unsigned = try curl(
            ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "{}"], url: url)
        #expect(unsigned.status == 401)
        #expect(unsigned.body == #"{"error":"Invalid signature"}"#)
        let malformed = try signedPost(Array("not json".utf8), url: url)
        #expect(malformed.status == 400)
        #expect(malformed.body == #"{"error":"Malformed event"}"#)
        let get = try curl([], url: url)
        #expect(get.status == 405)
        #expect(get.headers.contains("Allow: POST"))
        #expect(get.headers.lowercased().contains("content-type: application/json"), "\(get.headers)")
        let large = try signedPost([UInt8](repeating: UInt8(ascii: " "), count: (1 << 20) + 1), url: url)
        #expect(large.status == 413)
        #expect(large.body.contains("Payload too large"))
        #expect(large.headers.lowercased().contains("content-type: application/json"), "\(large.headers)")
        let health = try curl([], url: url + "/health")
        #expect(health.status == 200)
        #expect(health.body == #"{"ok":true,"database":"reachable"}"#)

        // With a trailing slash, as an Edge Function's URL allows: the same webhook, under its own
        // body limit rather than the application's 16 KB.
        let slashUser = "user_" + uniqueToken()
        let padded =
            ClerkPayload.user(id: slashUser, email: nil, first: "Grace", updatedAt: 6)
            + [UInt8](repeating: UInt8(ascii: " "), count: 20_000)
        let viaSlash = try signedPost(padded, url: url + "/")
        #expect(viaSlash.status == 200)
        #expect(viaSlash.body == #"{"ok":true,"outcome":"applied"}"#)
        #expect(try database.user(slashUser) == UserRow(email: nil, name: "Grace", clerkUpdatedAt: 6))
        let largeViaSlash = try signedPost([UInt8](repeating: UInt8(ascii: " "), count: (1 << 20) + 1), url: url + "/")
        #expect(largeViaSlash.status == 413)
        #expect(largeViaSlash.body.contains("Payload too large"))

        // Every other path is the application's.
        for path in ["/functions/v1/clerk-webhook/other", "/functions/v1/other", "/"] {
            let reply = try curl([], url: url.replacingOccurrences(of: "/functions/v1/clerk-webhook", with: path))
            #expect(reply.status == 200 && reply.body == "the app\n", "\(path): \(reply.status) \(reply.body)")
        }
    }
}
