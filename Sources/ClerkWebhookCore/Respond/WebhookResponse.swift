/// The HTTP answer to one request: a status, extra headers and a small JSON body.
/// Bodies are fixed texts: they never echo request content.
public struct WebhookResponse: Equatable, Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: String

    public init(status: Int, headers: [(name: String, value: String)] = [], body: String) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: WebhookResponse, rhs: WebhookResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body
            && lhs.headers.map { "\($0.name): \($0.value)" } == rhs.headers.map { "\($0.name): \($0.value)" }
    }

    /// Seconds a sender should wait before retrying after a 503.
    public static let retryAfterSeconds = 5

    /// 200: applied, already applied, stale or ignored — Svix must not retry any of these.
    public static func accepted(_ outcome: SyncOutcome) -> WebhookResponse {
        WebhookResponse(status: 200, body: #"{"ok":true,"outcome":"\#(outcome.rawValue)"}"#)
    }
    public static let malformed = WebhookResponse(status: 400, body: #"{"error":"Malformed event"}"#)
    public static let invalidSignature = WebhookResponse(status: 401, body: #"{"error":"Invalid signature"}"#)
    public static let methodNotAllowed = WebhookResponse(
        status: 405, headers: [("Allow", "POST")], body: #"{"error":"Method not allowed"}"#)
    public static let payloadTooLarge = WebhookResponse(status: 413, body: #"{"error":"Payload too large"}"#)
    public static let internalError = WebhookResponse(status: 500, body: #"{"error":"Internal error"}"#)
    public static let unavailable = WebhookResponse(
        status: 503, headers: [("Retry-After", String(retryAfterSeconds))],
        body: #"{"error":"Temporarily unavailable, retry later"}"#)

    /// Health check: everything a delivery needs is in place.
    public static let healthy = WebhookResponse(status: 200, body: #"{"ok":true,"database":"reachable"}"#)

    /// Health check: something a delivery needs is missing; `detail` is a fixed JSON member.
    public static func unhealthy(_ detail: String) -> WebhookResponse {
        WebhookResponse(
            status: 503, headers: [("Retry-After", String(retryAfterSeconds))], body: #"{"ok":false,"# + detail + "}")
    }

    /// The answer for a request refused before verification.
    public static func rejected(_ rejection: RequestRejection) -> WebhookResponse {
        switch rejection {
        case .methodNotAllowed: .methodNotAllowed
        case .payloadTooLarge: .payloadTooLarge
        case .invalidContentLength, .incompleteBody: .malformed
        }
    }

    /// The answer for a database failure: 503 when a retry can succeed, else 500.
    public static func failed(_ error: DatabaseError) -> WebhookResponse {
        error.isTransient ? .unavailable : .internalError
    }

    /// The reason phrase of `status`.
    public var reason: String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 413: "Payload Too Large"
        case 503: "Service Unavailable"
        default: "Internal Server Error"
        }
    }

    /// The CGI response: `Status:` line, headers, blank line, body.
    public var cgiText: String {
        var text = "Status: \(status) \(reason)\r\nContent-Type: application/json\r\n"
        for header in headers { text += "\(header.name): \(header.value)\r\n" }
        text += "Content-Length: \(body.utf8.count)\r\n\r\n"
        return text + body
    }
}
