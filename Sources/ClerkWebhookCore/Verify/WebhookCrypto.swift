/// The cryptographic primitives signature verification needs. The core stays free of C; the
/// OpenSSL-backed implementation lives in `ClerkWebhookSystem`.
public protocol WebhookCrypto: Sendable {
    /// HMAC-SHA256 of the concatenation of `message` parts under `key` (32 bytes).
    func hmacSHA256(key: [UInt8], message: [[UInt8]]) -> [UInt8]
    /// Standard base64 with padding.
    func base64Encode(_ bytes: [UInt8]) -> String
    /// Decodes standard base64 (padding optional) given as ASCII bytes; `nil` when `text` is not base64.
    func base64Decode(_ text: [UInt8]) -> [UInt8]?
    /// Compares two byte strings in time that depends only on their length.
    func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool
}
