/// How the fallbacks treat an answer from Clerk's Backend API: retry what a wait can fix
/// (429 after its `Retry-After`, 5xx and transport failures with exponential backoff), stop the
/// whole run on 401/403, and hand everything else to the caller.
public struct RetryPolicy: Equatable, Sendable {
    /// Attempts per request, the first included.
    public var maximumAttempts: Int
    /// The first backoff; each further attempt doubles it.
    public var baseDelaySeconds: Double
    /// No wait is longer than this, whatever `Retry-After` asks.
    public var maximumDelaySeconds: Double

    public init(maximumAttempts: Int = 6, baseDelaySeconds: Double = 1, maximumDelaySeconds: Double = 60) {
        self.maximumAttempts = maximumAttempts
        self.baseDelaySeconds = baseDelaySeconds
        self.maximumDelaySeconds = maximumDelaySeconds
    }

    /// What to do after an attempt.
    public enum Decision: Equatable, Sendable {
        /// Use this answer (2xx, 404 and the other 4xx the caller interprets).
        case use
        /// Wait this long, then try again.
        case retry(afterSeconds: Double)
        /// Give up on this request: retries are exhausted. The reason is one readable sentence.
        case giveUp(String)
        /// Stop everything: the secret key is wrong or lacks access. Retrying cannot help.
        case stop(String)
    }

    /// Decides after attempt number `attempt` (1-based) answered `status` (`nil`: no HTTP answer).
    public func decide(status: Int?, retryAfter: String?, attempt: Int) -> Decision {
        let backoff = min(maximumDelaySeconds, baseDelaySeconds * Double(1 << min(max(attempt - 1, 0), 20)))
        let exhausted = attempt >= maximumAttempts
        switch status {
        case nil:
            return exhausted ? .giveUp("no answer after \(attempt) attempts") : .retry(afterSeconds: backoff)
        case 401?, 403?:
            return .stop(
                "Clerk refused the secret key (HTTP \(status!)): check CLERK_SECRET_KEY and that it belongs to this instance"
            )
        case 429?:
            if exhausted { return .giveUp("still rate limited (HTTP 429) after \(attempt) attempts") }
            return .retry(afterSeconds: min(maximumDelaySeconds, Self.seconds(retryAfter) ?? backoff))
        case let code? where code >= 500:
            return exhausted ? .giveUp("HTTP \(code) after \(attempt) attempts") : .retry(afterSeconds: backoff)
        default:
            return .use
        }
    }

    // `Retry-After` in delta-seconds; an HTTP date (or nonsense) falls back to the backoff.
    private static func seconds(_ header: String?) -> Double? {
        guard let text = header.map(trimmingSpaces), !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            text.utf8.count <= 6, let value = Double(text)
        else { return nil }
        return value
    }
}
