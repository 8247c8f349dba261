/// A verified Clerk webhook event, reduced to what the `users` table needs.
public struct ClerkEvent: Equatable, Sendable {
    /// The envelope's `type`, e.g. `user.created`.
    public var type: String
    /// `data.id`: the Clerk id of the object the event is about.
    public var objectID: String
    /// What the event asks of the `users` table.
    public var change: Change

    /// The effect an event has on a user's row.
    public enum Change: Equatable, Sendable {
        /// `user.created` / `user.updated`: the user's state as of `updatedAt` (Clerk's ms timestamp).
        case upsert(UserSnapshot)
        /// `user.deleted`: a terminal soft delete.
        case delete
        /// Any other event type: acknowledged, no user change.
        case ignore
    }

    public init(type: String, objectID: String, change: Change) {
        self.type = type
        self.objectID = objectID
        self.change = change
    }
}

/// The columns a `user.created`/`user.updated` event sets.
public struct UserSnapshot: Equatable, Sendable {
    /// The primary email address, or `nil` for users without one (phone-only, web3).
    public var email: String?
    /// First and last name joined by a space and trimmed, or `nil` when both are empty.
    public var name: String?
    /// `data.updated_at`: milliseconds since the epoch; orders events for one user.
    public var updatedAtMillis: Int64

    public init(email: String?, name: String?, updatedAtMillis: Int64) {
        self.email = email
        self.name = name
        self.updatedAtMillis = updatedAtMillis
    }
}

/// Why a verified body is not a usable Clerk event: answered with 400. Never holds body content.
public struct EventDecodingError: Error, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

extension ClerkEvent {
    /// Decodes a Clerk event envelope from the raw (already verified) body.
    public init(decoding body: [UInt8]) throws(EventDecodingError) {
        let json: JSONValue
        do {
            json = try JSONParser.parse(body, keeping: Self.shape)
        } catch {
            throw EventDecodingError("body is not JSON (\(error))")
        }
        guard case .object = json else { throw EventDecodingError("body is not a JSON object") }
        guard case .string(let type)? = json["type"], !type.isEmpty else {
            throw EventDecodingError("`type` is missing or not a non-empty string")
        }
        guard let data = json["data"], case .object = data else {
            throw EventDecodingError("`data` is missing or not an object")
        }
        guard case .string(let id)? = data["id"], !id.isEmpty else {
            throw EventDecodingError("`data.id` is missing or not a non-empty string")
        }
        try Self.rejectNUL(id, field: "data.id")
        // Clerk ids are ~32 characters; a longer one cannot be a real id, and a unique index could
        // not hold a huge one (a permanent error, so a retry loop, instead of this 400).
        guard id.utf8.count <= Self.maximumIDBytes else {
            throw EventDecodingError("`data.id` is longer than \(Self.maximumIDBytes) bytes")
        }

        switch type {
        case "user.created", "user.updated":
            self.init(type: type, objectID: id, change: .upsert(try UserSnapshot(decoding: data)))
        case "user.deleted":
            self.init(type: type, objectID: id, change: .delete)
        default:
            self.init(type: type, objectID: id, change: .ignore)
        }
    }

    /// The members of an event that decoding reads; the parser checks the rest of the body but
    /// builds none of it (most of a Clerk user payload).
    public static let shape = JSONShape.members([
        ("type", .all),
        (
            "data",
            .members([
                ("id", .all), ("updated_at", .all), ("first_name", .all), ("last_name", .all),
                ("primary_email_address_id", .all),
                ("email_addresses", .elements(.members([("id", .all), ("email_address", .all)]))),
            ])
        ),
    ])

    /// The longest `data.id` accepted.
    public static let maximumIDBytes = 255

    // PostgreSQL text cannot hold NUL; such a value can never be stored, so it is a 400, not a 5xx.
    fileprivate static func rejectNUL(_ value: String, field: String) throws(EventDecodingError) {
        var value = value
        if value.withUTF8({ $0.contains(0) }) { throw EventDecodingError("`\(field)` contains a NUL character") }
    }
}

extension UserSnapshot {
    /// Reads the primary email, the display name and `updated_at` from a Clerk `User` object.
    init(decoding user: JSONValue) throws(EventDecodingError) {
        guard let updatedAt = user["updated_at"]?.int64 else {
            throw EventDecodingError("`data.updated_at` is missing or not an integer")
        }
        self.init(
            email: try Self.primaryEmail(of: user),
            name: try Self.displayName(of: user),
            updatedAtMillis: updatedAt
        )
    }

    /// The longest primary email address accepted.
    public static let maximumEmailBytes = 320

    private static func optionalString(_ value: JSONValue?, field: String) throws(EventDecodingError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let string)?:
            try ClerkEvent.rejectNUL(string, field: field)
            return string
        default: throw EventDecodingError("`\(field)` is not a string")
        }
    }

    // The primary address is the one whose id is `primary_email_address_id`; `[0]` may be another
    // address, and the list is empty for phone-only users.
    private static func primaryEmail(of user: JSONValue) throws(EventDecodingError) -> String? {
        guard
            let primaryID = try optionalString(user["primary_email_address_id"], field: "data.primary_email_address_id")
        else { return nil }
        let addresses: [JSONValue]
        switch user["email_addresses"] {
        case nil, .null?: return nil
        case .array(let list)?: addresses = list
        default: throw EventDecodingError("`data.email_addresses` is not an array")
        }
        for address in addresses {
            guard case .object = address else { throw EventDecodingError("`data.email_addresses` holds a non-object") }
            guard case .string(let id)? = address["id"], id == primaryID else { continue }
            let email = try optionalString(address["email_address"], field: "data.email_addresses[].email_address")
            // 64 + 1 + 255: no real address is longer, and the unique index on email needs a bound.
            if let email, email.utf8.count > maximumEmailBytes {
                throw EventDecodingError("the primary email address is longer than \(maximumEmailBytes) bytes")
            }
            return email.flatMap { $0.isEmpty ? nil : $0 }
        }
        return nil
    }

    private static func displayName(of user: JSONValue) throws(EventDecodingError) -> String? {
        let first = try optionalString(user["first_name"], field: "data.first_name") ?? ""
        let last = try optionalString(user["last_name"], field: "data.last_name") ?? ""
        let joined = trimmed(trimmed(first) + " " + trimmed(last))
        return joined.isEmpty ? nil : joined
    }

    private static func trimmed(_ text: String) -> String {
        // Most names start and end with a visible ASCII character: a grapheme that starts or ends
        // with one is not whitespace, so there is nothing to trim.
        if let head = text.utf8.first, let tail = text.utf8.last, (0x21...0x7E).contains(head),
            (0x21...0x7E).contains(tail)
        {
            return text
        }
        let characters = Substring(text)
        guard let start = characters.firstIndex(where: { !$0.isWhitespace }),
            let end = characters.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(characters[start...end])
    }
}
