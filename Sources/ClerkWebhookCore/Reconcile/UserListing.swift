/// Reads Clerk's whole user list (`GET /users`, oldest first) by offset without missing a user
/// when others are deleted during the run.
///
/// A deletion moves every later user one offset down, so plain offset paging skips one user per
/// deletion ahead of it. So each request after the first starts `overlap` users before the end of
/// the previous page: while the page holds a user already read, the two pages join with nothing
/// between them. A page that holds none (more deletions than the overlap, or the list now ends
/// before the offset) proves a gap; the listing then steps back a page and reads again. Users
/// created during the run sort last and are read too. A user seen twice keeps the newer snapshot.
public struct UserListing: Sendable {
    /// How often the listing steps back before it gives up on a list that keeps changing.
    public static let maximumStepsBack = 10

    public let pageSize: Int
    /// Users each request re-reads from the previous page: 20, or half of a smaller page, and 0
    /// for a page of 1 (which then cannot notice a gap).
    public let overlap: Int
    /// Every user read so far, in first-seen order.
    public private(set) var users: [ClerkUser] = []
    /// The `offset` of the next request.
    public private(set) var nextOffset = 0
    /// Whether the list has been read to its end.
    public private(set) var isComplete = false
    /// Times the listing stepped back to close a gap.
    public private(set) var stepsBack = 0
    private var indexByID: [String: Int] = [:]

    public init(pageSize: Int) {
        precondition(pageSize >= 1, "a page holds at least one user")
        self.pageSize = pageSize
        overlap = pageSize >= 2 ? min(20, pageSize / 2) : 0
    }

    /// Takes the page Clerk answered for `limit: pageSize, offset: nextOffset`.
    public mutating func receive(_ page: [ClerkUser]) throws(ClerkAPIError) {
        precondition(!isComplete, "the listing is complete")
        let joins = nextOffset == 0 || overlap == 0 || page.contains { indexByID[$0.id] != nil }
        for user in page {
            if let index = indexByID[user.id] {
                if user.snapshot.updatedAtMillis > users[index].snapshot.updatedAtMillis { users[index] = user }
            } else {
                indexByID[user.id] = users.count
                users.append(user)
            }
        }
        guard joins else {
            stepsBack += 1
            guard stepsBack <= Self.maximumStepsBack else {
                throw ClerkAPIError(
                    "the user list kept changing under the listing (users deleted faster than it could page); run it again"
                )
            }
            nextOffset = max(0, nextOffset - pageSize)
            return
        }
        if page.count < pageSize {
            isComplete = true
        } else {
            nextOffset += page.count - overlap
        }
    }
}
