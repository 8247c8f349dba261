/// The three Svix / Standard Webhooks headers of one delivery.
public struct WebhookHeaders: Equatable, Sendable {
    public var id: String?
    public var timestamp: String?
    public var signature: String?

    public init(id: String?, timestamp: String?, signature: String?) {
        self.id = id
        self.timestamp = timestamp
        self.signature = signature
    }

    /// Reads the headers from CGI variables. Each `svix-*` header wins over its unbranded
    /// `webhook-*` twin, one header at a time, as the Svix libraries do.
    public init(parameter: (String) -> String?) {
        func header(_ svix: String, _ unbranded: String) -> String? {
            for name in [svix, unbranded] {
                if let value = parameter(name).map(trimmingSpaces), !value.isEmpty { return value }
            }
            return nil
        }
        self.init(
            id: header("HTTP_SVIX_ID", "HTTP_WEBHOOK_ID"),
            timestamp: header("HTTP_SVIX_TIMESTAMP", "HTTP_WEBHOOK_TIMESTAMP"),
            signature: header("HTTP_SVIX_SIGNATURE", "HTTP_WEBHOOK_SIGNATURE"))
    }
}

/// One HTTP request as the webhook sees it: method, signature headers and the raw body bytes.
public struct WebhookRequest: Equatable, Sendable {
    /// Svix caps payloads near 350 KB; anything over 1 MiB is refused unread.
    public static let maximumBodyBytes = 1 << 20

    public var method: String
    public var headers: WebhookHeaders
    public var body: [UInt8]

    public init(method: String, headers: WebhookHeaders, body: [UInt8]) {
        self.method = method
        self.headers = headers
        self.body = body
    }

    /// Reads a request from CGI variables and a body reader, refusing what should not be read at all.
    ///
    /// - Parameters:
    ///   - parameter: looks up a CGI variable (`REQUEST_METHOD`, `CONTENT_LENGTH`, `HTTP_*`).
    ///   - readBody: reads up to the given number of bytes of the request body.
    public static func read(
        parameter: (String) -> String?,
        readBody: (Int) -> [UInt8]
    ) throws(RequestRejection) -> WebhookRequest {
        let method = parameter("REQUEST_METHOD") ?? ""
        guard method == "POST" else { throw .methodNotAllowed }
        let length: Int
        switch parameter("CONTENT_LENGTH") {
        case nil, ""?: length = 0
        case let text?:
            guard text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text)
            else { throw .invalidContentLength }
            length = value
        }
        guard length <= maximumBodyBytes else { throw .payloadTooLarge }
        let body = length > 0 ? readBody(length) : []
        guard body.count == length else { throw .incompleteBody }
        return WebhookRequest(method: method, headers: WebhookHeaders(parameter: parameter), body: body)
    }
}

/// Which endpoint a request is for. nginx says so with a fixed `CLERK_WEBHOOK_ROUTE` parameter
/// per location; it is never derived from the request path.
public enum Route: Equatable, Sendable {
    case webhook
    case health

    public init(parameter: (String) -> String?) {
        self = parameter("CLERK_WEBHOOK_ROUTE") == "health" ? .health : .webhook
    }
}

/// Why a request was refused before its signature was checked.
public enum RequestRejection: Error, Equatable, Sendable {
    case methodNotAllowed
    case payloadTooLarge
    case invalidContentLength
    case incompleteBody
}

func trimmingSpaces(_ text: String) -> String {
    // Most values have nothing to trim: then no copy.
    func isSpace(_ byte: UInt8?) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    if !isSpace(text.utf8.first) && !isSpace(text.utf8.last) { return text }
    var slice = Substring(text)
    while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
    while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
    return String(slice)
}
