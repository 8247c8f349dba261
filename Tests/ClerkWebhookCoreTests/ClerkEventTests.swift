import ClerkWebhookCore
import Testing

/// Decoding Clerk payloads shaped like Clerk's documented examples.
@Suite struct ClerkEventTests {
    @Test("user.created: the primary email, the joined name and updated_at")
    func created() throws {
        let event = try ClerkEvent(decoding: fixture("user.created.json"))
        #expect(event.type == "user.created")
        #expect(event.objectID == "user_29w83sxmDNGwOuEthce5gg56FcC")
        #expect(
            event.change
                == .upsert(
                    UserSnapshot(
                        email: "example@example.org", name: "Example Example", updatedAtMillis: 1_654_012_591_835)))
    }

    @Test("user.updated: the primary address is matched by id, not taken from [0]; names are trimmed")
    func updated() throws {
        let event = try ClerkEvent(decoding: fixture("user.updated.json"))
        #expect(
            event.change
                == .upsert(
                    UserSnapshot(email: "john.doe@example.com", name: "John Doe", updatedAtMillis: 1_716_883_500_000)))
    }

    @Test("a phone-only user has no email and no name")
    func phoneOnly() throws {
        let event = try ClerkEvent(decoding: fixture("user.created.phone-only.json"))
        #expect(event.change == .upsert(UserSnapshot(email: nil, name: nil, updatedAtMillis: 1_716_883_200_000)))
    }

    @Test("user.deleted carries only the id")
    func deleted() throws {
        let event = try ClerkEvent(decoding: fixture("user.deleted.json"))
        #expect(
            event == ClerkEvent(type: "user.deleted", objectID: "user_29w83sxmDNGwOuEthce5gg56FcC", change: .delete))
    }

    @Test("other event types are acknowledged and ignored")
    func unknown() throws {
        let event = try ClerkEvent(decoding: fixture("session.created.json"))
        #expect(event.change == .ignore)
        #expect(event.type == "session.created")
    }

    @Test(
        "user types other than created/updated/deleted are ignored, whatever their data holds",
        arguments: ["user.createdAtEdge", "user.Created", "user.created ", "User.updated", "user.deleted.v2"])
    func otherUserTypes(type: String) throws {
        // User-shaped data without updated_at: read as an upsert it would be a 400.
        let body = #"{"type":"\#(type)","data":{"id":"user_1","object":"user","first_name":"Ada"}}"#
        let event = try ClerkEvent(decoding: Array(body.utf8))
        #expect(event == ClerkEvent(type: type, objectID: "user_1", change: .ignore))
    }

    @Test("a missing data.id is malformed")
    func missingID() throws {
        #expect(throws: EventDecodingError.self) { try ClerkEvent(decoding: fixture("malformed.missing-data-id.json")) }
    }

    @Test("names: one part, blanks and unicode")
    func names() throws {
        func name(_ first: String, _ last: String) throws -> String? {
            let body =
                #"{"type":"user.updated","data":{"id":"user_1","updated_at":1,"first_name":\#(first),"last_name":\#(last)}}"#
            guard case .upsert(let user) = try ClerkEvent(decoding: Array(body.utf8)).change else {
                return "not an upsert"
            }
            return user.name
        }
        #expect(try name(#""Ada""#, "null") == "Ada")
        #expect(try name("null", #""Lovelace""#) == "Lovelace")
        #expect(try name(#""  ""#, #"" ""#) == nil)
        #expect(try name(#""Zoë""#, #""Ñúñez 山田""#) == "Zoë Ñúñez 山田")
        #expect(try name(#""\u00a0Ada\t""#, #""\u3000Lovelace\n""#) == "Ada Lovelace")
        #expect(try name(#""Zoe\u0301 ""#, #""de\u00a0""#) == "Zoe\u{301} de")
        #expect(try name(#""Robert'); DROP TABLE users;--""#, "null") == "Robert'); DROP TABLE users;--")
    }

    @Test(
        "malformed bodies are refused with a reason",
        arguments: [
            "", "not json", "[]", "42", #""user.created""#, "{}",
            #"{"type":"user.created"}"#,
            #"{"type":7,"data":{"id":"user_1"}}"#,
            #"{"type":"","data":{"id":"user_1"}}"#,
            #"{"type":"user.created","data":[]}"#,
            #"{"type":"user.created","data":"user_1"}"#,
            #"{"type":"user.created","data":{"id":42,"updated_at":1}}"#,
            #"{"type":"user.created","data":{"id":"","updated_at":1}}"#,
            #"{"type":"user.created","data":{"id":"user_1"}}"#,
            #"{"type":"user.created","data":{"id":"user_1","updated_at":"1"}}"#,
            #"{"type":"user.created","data":{"id":"user_1","updated_at":1.5}}"#,
            #"{"type":"user.created","data":{"id":"user_1","updated_at":1,"first_name":5}}"#,
            #"{"type":"user.created","data":{"id":"user_1","updated_at":1,"first_name":"a\u0000b"}}"#,
            #"{"type":"user.created","data":{"id":"user_1","updated_at":1,"primary_email_address_id":"e","email_addresses":{}}}"#,
            #"{"type":"user.created","data":{"id":"user_1","updated_at":1,"primary_email_address_id":"e","email_addresses":[{"id":"e","email_address":"a\u0000@x"}]}}"#,
            #"{"type":"user.created","data":{"id":"user_1","updated_at":1}} trailing"#,
        ])
    func malformed(body: String) {
        #expect(throws: EventDecodingError.self) { try ClerkEvent(decoding: Array(body.utf8)) }
    }

    @Test("error reasons never quote the body")
    func reasonsAreRedacted() {
        let body = #"{"type":"user.created","data":{"id":"user_1","updated_at":1,"first_name":"SECRETNAME\u0000"}}"#
        let error = #expect(throws: EventDecodingError.self) { try ClerkEvent(decoding: Array(body.utf8)) }
        #expect(error?.reason.contains("SECRETNAME") == false)
    }
}
