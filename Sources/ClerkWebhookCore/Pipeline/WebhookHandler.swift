/// The whole pipeline for one request: read → verify → decode → plan → execute → respond.
/// It holds no C and no I/O of its own: the request arrives parsed, the statement runs through
/// a `StatementExecutor`, and the caller writes the response and the log line.
public struct WebhookHandler: Sendable {
    private let verifier: Result<SignatureVerifier, ConfigurationError>

    /// - Parameter verifier: the configured verifier, or the configuration error that makes every
    ///   delivery fail loudly with 500 (never a silent pass).
    public init(verifier: Result<SignatureVerifier, ConfigurationError>) {
        self.verifier = verifier
    }

    /// What one request produced: the response and the fields of its log line.
    public struct Delivery: Sendable {
        public var response: WebhookResponse
        public var level: LogLevel
        public var fields: [(key: String, value: LogLine.Value)]
        /// The log line's constant message.
        public var message = "delivery"

        /// The delivery's log line, with its duration.
        public func logLine(durationMillis: Int64) -> LogLine {
            LogLine(
                level: level, message: message,
                fields: fields + [
                    ("http.status", .integer(Int64(response.status))), ("duration_ms", .integer(durationMillis)),
                ]
            )
        }
    }

    /// Handles one request read from the web server at time `now` (Unix seconds).
    public func handle(
        _ read: Result<WebhookRequest, RequestRejection>,
        now: Int64,
        executor: some StatementExecutor
    ) -> Delivery {
        let verifier: SignatureVerifier
        switch self.verifier {
        case .success(let configured): verifier = configured
        case .failure(let error):
            return Delivery(
                response: .internalError, level: .error,
                fields: [("outcome", .text("misconfigured")), ("reason", .text(error.message))])
        }
        let request: WebhookRequest
        switch read {
        case .success(let read): request = read
        case .failure(let rejection):
            return Delivery(
                response: .rejected(rejection), level: .warn,
                fields: [("outcome", .text("rejected")), ("reason", .text(Self.reason(rejection)))])
        }

        do {
            try verifier.verify(headers: request.headers, body: request.body, now: now)
        } catch {
            return Delivery(
                response: .invalidSignature, level: .warn,
                fields: [("outcome", .text("rejected")), ("reason", .text("signature: \(error)"))])
        }
        // Verified: the svix id is the sender's own and safe to log.
        let svixID = request.headers.id ?? ""
        var fields: [(key: String, value: LogLine.Value)] = [("svix.id", .text(svixID))]

        let event: ClerkEvent
        do {
            event = try ClerkEvent(decoding: request.body)
        } catch {
            let reason = "malformed: \(error.reason)"
            record(svixID: svixID, event: nil, status: 400, reason: reason, sqlState: nil, executor: executor)
            fields += [("outcome", .text("rejected")), ("reason", .text(reason))]
            return Delivery(response: .malformed, level: .warn, fields: fields)
        }
        fields += [("event.type", .text(event.type)), ("clerk.user_id", .text(event.objectID))]

        do {
            let result = try executor.execute(PlannedStatement.apply(event, svixID: svixID))
            guard let outcome = result.flatMap(SyncOutcome.init(rawValue:)) else {
                fields += [("outcome", .text("error")), ("reason", .text("unexpected result from apply_user_event"))]
                return Delivery(response: .internalError, level: .error, fields: fields)
            }
            fields.append(("outcome", .text(outcome.rawValue)))
            return Delivery(response: .accepted(outcome), level: .info, fields: fields)
        } catch {
            fields += [("outcome", .text(error.isTransient ? "retryable-error" : "error"))] + error.logFields
            if !error.isTransient {
                record(
                    svixID: svixID, event: event, status: 500, reason: "database error", sqlState: error.sqlState,
                    executor: executor)
            }
            return Delivery(response: .failed(error), level: .error, fields: fields)
        }
    }

    /// Answers a health check: 200 when the secret is usable and the database answers with the
    /// sync function installed and executable by this login, 503 otherwise.
    public func checkHealth(method: String, executor: some StatementExecutor) -> Delivery {
        guard method == "GET" || method == "HEAD" else {
            return Delivery(
                response: .methodNotAllowed, level: .warn, fields: [("outcome", .text("rejected"))], message: "health")
        }
        if case .failure(let error) = verifier {
            return Delivery(
                response: .unhealthy(#""signing_secret":"invalid""#), level: .error,
                fields: [("outcome", .text("unhealthy")), ("reason", .text(error.message))], message: "health")
        }
        do {
            switch try executor.execute(PlannedStatement(sql: Statements.ping, parameters: [])) {
            case "ok":
                return Delivery(
                    response: .healthy, level: .debug, fields: [("outcome", .text("healthy"))], message: "health")
            case "denied":
                return Self.unhealthyDatabase("no privilege", [("reason", .text(Self.noPrivilegeReason))])
            default:
                return Self.unhealthyDatabase(
                    "not migrated", [("reason", .text("clerk_webhook.apply_user_event is missing"))])
            }
        } catch  where error.sqlState == "42501" {
            // No USAGE on the clerk_webhook schema: the function's name cannot even be looked up.
            return Self.unhealthyDatabase("no privilege", [("reason", .text(Self.noPrivilegeReason))])
        } catch {
            return Self.unhealthyDatabase("unreachable", error.logFields)
        }
    }

    private static let noPrivilegeReason =
        "the DATABASE_URL role may not execute clerk_webhook.apply_user_event: make it a member of clerk_webhook_writer"

    /// A 503 health answer: `problem` tells the client what is wrong, `details` tell the log why.
    private static func unhealthyDatabase(_ problem: String, _ details: [(key: String, value: LogLine.Value)])
        -> Delivery
    {
        Delivery(
            response: .unhealthy(#""database":""# + problem + #"""#), level: .error,
            fields: [("outcome", .text("unhealthy"))] + details, message: "health")
    }

    // Best effort: the answer to the sender does not depend on it.
    private func record(
        svixID: String, event: ClerkEvent?, status: Int, reason: String, sqlState: String?,
        executor: some StatementExecutor
    ) {
        let statement = PlannedStatement.rejection(
            svixID: svixID, event: event, status: status, reason: reason, sqlState: sqlState)
        _ = try? executor.execute(statement)
    }

    private static func reason(_ rejection: RequestRejection) -> String {
        switch rejection {
        case .methodNotAllowed: "method not allowed"
        case .payloadTooLarge: "body over \(WebhookRequest.maximumBodyBytes) bytes"
        case .invalidContentLength: "invalid CONTENT_LENGTH"
        case .incompleteBody: "body shorter than CONTENT_LENGTH"
        }
    }
}

extension DatabaseError {
    /// What the log line says of the error: its SQLSTATE, and its message when that is safe to log.
    fileprivate var logFields: [(key: String, value: LogLine.Value)] {
        [("db.sqlstate", .text(sqlState ?? "none"))] + (loggableMessage.map { [("db.message", .text($0))] } ?? [])
    }
}
