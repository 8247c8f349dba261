/// Verifies Svix / Standard Webhooks signatures: HMAC-SHA256 over `{id}.{timestamp}.{body}`,
/// any one `v1` entry of the header matching any configured secret, within ±5 minutes.
public struct SignatureVerifier: Sendable {
    /// Allowed clock difference between the signature timestamp and now, both directions.
    public static let toleranceSeconds: Int64 = 300
    /// Shortest accepted key. Svix issues 24-byte keys; the spec allows 24 to 64. A shorter decode
    /// means something else was pasted (e.g. `v1,whsec_...` splits into a one-byte "key" `v1`).
    public static let minimumKeyBytes = 16
    /// Longest accepted message id; Svix ids are around 30 characters.
    public static let maximumIDBytes = 256

    private let keys: [[UInt8]]
    private let crypto: any WebhookCrypto

    /// - Parameter keys: decoded HMAC keys, one per active secret (several during rotation).
    public init(keys: [[UInt8]], crypto: any WebhookCrypto) {
        precondition(!keys.isEmpty, "a verifier needs at least one key")
        self.keys = keys
        self.crypto = crypto
    }

    /// Builds a verifier from a secrets setting: `whsec_<base64>` or bare base64 values
    /// separated by spaces or commas.
    public init(secrets: String, variable: String, crypto: any WebhookCrypto) throws(ConfigurationError) {
        let tokens = secrets.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" || $0 == "\t" })
        guard !tokens.isEmpty else { throw ConfigurationError("\(variable) is empty") }
        var keys: [[UInt8]] = []
        for (position, token) in tokens.enumerated() {
            let encoded = token.hasPrefix("whsec_") ? token.dropFirst("whsec_".count) : token
            guard let key = crypto.base64Decode(Array(encoded.utf8)), key.count >= Self.minimumKeyBytes else {
                throw ConfigurationError(
                    "\(variable): secret #\(position + 1) is not a whsec_<base64> signing secret"
                        + Self.hint(for: token)
                        + " (copy it from Clerk Dashboard → Webhooks → Endpoint → Signing Secret)"
                )
            }
            keys.append(key)
        }
        self.init(keys: keys, crypto: crypto)
    }

    // What a rejected secret most likely is, from its first characters only (the rest is never shown).
    private static func hint(for token: Substring) -> String {
        if let first = token.first, first == "\"" || first == "'" {
            return ": it is in quotes, which Docker's --env-file and some .env loaders keep; write it without them"
        }
        if token.hasPrefix("sk_") || token.hasPrefix("pk_") {
            return ": it is a Clerk API key (sk_/pk_), not the webhook endpoint's signing secret"
        }
        return ""
    }

    /// The `v1,<base64>` signature of a message under the first key.
    public func signature(id: String, timestamp: Int64, body: [UInt8]) -> String {
        "v1," + crypto.base64Encode(mac(key: keys[0], id: id, timestamp: String(timestamp), body: body))
    }

    /// Checks the headers against the raw body bytes at time `now` (Unix seconds).
    public func verify(headers: WebhookHeaders, body: [UInt8], now: Int64) throws(SignatureFailure) {
        guard let id = headers.id else { throw .missingHeader("svix-id") }
        guard let timestampText = headers.timestamp else { throw .missingHeader("svix-timestamp") }
        guard let signatureHeader = headers.signature else { throw .missingHeader("svix-signature") }
        guard id.utf8.count <= Self.maximumIDBytes, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidID
        }
        // Digits only: no sign, no fraction. 18 digits cannot overflow Int64.
        guard timestampText.utf8.count <= 18, timestampText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let timestamp = Int64(timestampText)
        else { throw .invalidTimestamp }
        if timestamp < now - Self.toleranceSeconds { throw .timestampTooOld(seconds: now - timestamp) }
        if timestamp > now + Self.toleranceSeconds { throw .timestampTooNew(seconds: timestamp - now) }

        var candidates: [[UInt8]] = []
        // Entries split at each space byte, as Svix's libraries split the header.
        for entry in signatureHeader.utf8.split(separator: UInt8(ascii: " ")) {
            // `v1,` then exactly the 44 characters of a padded base64 SHA-256: nothing else is a v1 signature.
            guard entry.count == 47, entry.starts(with: "v1,".utf8) else { continue }
            if let decoded = crypto.base64Decode(Array(entry.dropFirst(3))), decoded.count == 32 {
                candidates.append(decoded)
            }
        }
        guard !candidates.isEmpty else { throw .noVersion1Signature }
        for key in keys {
            // The canonical integer, as the Svix libraries sign it (so `0{ts}` verifies like `{ts}`).
            let expected = mac(key: key, id: id, timestamp: String(timestamp), body: body)
            for candidate in candidates where crypto.constantTimeEquals(expected, candidate) {
                return
            }
        }
        throw .noMatchingSignature
    }

    private func mac(key: [UInt8], id: String, timestamp: String, body: [UInt8]) -> [UInt8] {
        let dot = [UInt8(ascii: ".")]
        return crypto.hmacSHA256(key: key, message: [Array(id.utf8), dot, Array(timestamp.utf8), dot, body])
    }
}

/// Why a delivery failed verification. The client only ever sees "Invalid signature"; this goes to the log.
public enum SignatureFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case missingHeader(String)
    case invalidID
    case invalidTimestamp
    /// `seconds` before now: a replay, or this host's clock runs ahead.
    case timestampTooOld(seconds: Int64)
    /// `seconds` after now: this host's clock runs behind.
    case timestampTooNew(seconds: Int64)
    case noVersion1Signature
    case noMatchingSignature

    /// A short, stable, log-friendly reason.
    public var description: String {
        switch self {
        case .missingHeader(let name): "missing header \(name)"
        case .invalidID: "invalid svix-id header"
        case .invalidTimestamp: "invalid svix-timestamp header"
        case .timestampTooOld(let seconds):
            "timestamp too old: \(seconds) s before this host's clock (tolerance \(SignatureVerifier.toleranceSeconds) s;"
                + " if every delivery fails this way, this host's clock runs ahead: check its time sync)"
        case .timestampTooNew(let seconds):
            "timestamp too new: \(seconds) s after this host's clock (tolerance \(SignatureVerifier.toleranceSeconds) s;"
                + " if every delivery fails this way, this host's clock runs behind: check its time sync)"
        case .noVersion1Signature: "no well-formed v1 signature in svix-signature"
        case .noMatchingSignature:
            "no matching signature: a fresh, well-formed delivery that no configured secret signed (if every"
                + " delivery fails this way, CLERK_WEBHOOK_SIGNING_SECRET is wrong or was rotated in Clerk)"
        }
    }
}
