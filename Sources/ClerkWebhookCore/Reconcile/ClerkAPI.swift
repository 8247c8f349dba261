/// A user as Clerk's Backend API returns it, reduced to what the `users` table needs.
public struct ClerkUser: Equatable, Sendable {
    /// The Clerk user id (`user_…`).
    public var id: String
    /// Email, name and `updated_at`, read exactly as from a webhook's `data`.
    public var snapshot: UserSnapshot

    public init(id: String, snapshot: UserSnapshot) {
        self.id = id
        self.snapshot = snapshot
    }
}

/// Why a Backend API answer could not be used. Never holds user data.
public struct ClerkAPIError: Error, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

/// Requests and answers of Clerk's Backend API (`https://api.clerk.com/v1`) that the fallbacks use.
public enum ClerkAPI {
    /// Where the API lives unless `CLERK_API_URL` says otherwise.
    public static let defaultBaseURL = "https://api.clerk.com/v1"
    /// The largest `limit` `GET /users` accepts.
    public static let maximumPageSize = 500

    /// One page of `GET /users`, oldest first, so users created during a run land on later pages.
    public static func userListPath(limit: Int, offset: Int) -> String {
        "/users?limit=\(limit)&offset=\(offset)&order_by=created_at"
    }

    /// `GET /users/count`.
    public static let userCountPath = "/users/count"

    /// `GET /users/{id}`; the id is percent-encoded, so nothing in it can change the path.
    public static func userPath(_ id: String) -> String {
        "/users/" + percentEncoded(id)
    }

    /// Decodes `GET /users`: a bare JSON array of `User` objects.
    public static func decodeUserList(_ body: [UInt8]) throws(ClerkAPIError) -> [ClerkUser] {
        guard case .array(let items) = try parse(body, what: "user list") else {
            throw ClerkAPIError("the user list is not a JSON array")
        }
        var users: [ClerkUser] = []
        users.reserveCapacity(items.count)
        for item in items { users.append(try decodeUser(item)) }
        return users
    }

    /// Decodes `GET /users/{id}`: one `User` object.
    public static func decodeUser(_ body: [UInt8]) throws(ClerkAPIError) -> ClerkUser {
        try decodeUser(try parse(body, what: "user"))
    }

    /// Decodes `GET /users/count`: `{"object":"total_count","total_count":N}`.
    public static func decodeCount(_ body: [UInt8]) throws(ClerkAPIError) -> Int {
        guard let count = try parse(body, what: "user count")["total_count"]?.int64, count >= 0 else {
            throw ClerkAPIError("the user count has no integer `total_count`")
        }
        return Int(count)
    }

    /// The first `code: message` of a Clerk error body (`{"errors":[{"code":…,"message":…}]}`).
    public static func errorSummary(_ body: [UInt8]) -> String? {
        guard case .array(let errors)? = (try? JSONParser.parse(body))?["errors"], let first = errors.first,
            case .string(let message)? = first["message"]
        else { return nil }
        if case .string(let code)? = first["code"] { return code + ": " + message }
        return message
    }

    private static func decodeUser(_ value: JSONValue) throws(ClerkAPIError) -> ClerkUser {
        guard case .object = value, case .string(let id)? = value["id"], !id.isEmpty, !id.utf8.contains(0) else {
            throw ClerkAPIError("a user has no string `id`")
        }
        do {
            return ClerkUser(id: id, snapshot: try UserSnapshot(decoding: value))
        } catch {
            throw ClerkAPIError("user \(id) is not shaped like a Clerk User (\(error.reason))")
        }
    }

    private static func parse(_ body: [UInt8], what: String) throws(ClerkAPIError) -> JSONValue {
        do {
            return try JSONParser.parse(body)
        } catch {
            throw ClerkAPIError("the \(what) is not JSON (\(error))")
        }
    }

    private static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
