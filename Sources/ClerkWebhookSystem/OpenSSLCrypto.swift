import COpenSSL
import ClerkWebhookCore

/// `WebhookCrypto` over OpenSSL's libcrypto.
///
/// HMAC is built on the low-level SHA-256 functions rather than `HMAC()`/EVP: same bytes, but
/// without OpenSSL 3's provider initialisation, which costs about a millisecond in every new process.
public struct OpenSSLCrypto: WebhookCrypto {
    private static let blockSize = 64

    public init() {}

    public func hmacSHA256(key: [UInt8], message: [[UInt8]]) -> [UInt8] {
        let key = key.count > Self.blockSize ? sha256([key]) : key
        var inner = SHA256_CTX()
        var outer = SHA256_CTX()
        SHA256_Init(&inner)
        SHA256_Init(&outer)
        // The key padded to one block, XORed with each pad in turn, on the stack: no array per call.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.blockSize) { block in
            for index in block.indices { block[index] = (index < key.count ? key[index] : 0) ^ 0x36 }
            _ = SHA256_Update(&inner, block.baseAddress, Self.blockSize)
            for index in block.indices { block[index] ^= 0x36 ^ 0x5C }
            _ = SHA256_Update(&outer, block.baseAddress, Self.blockSize)
        }
        for part in message {
            part.withUnsafeBytes { _ = SHA256_Update(&inner, $0.baseAddress, $0.count) }
        }
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        SHA256_Final(&digest, &inner)
        _ = SHA256_Update(&outer, digest, digest.count)
        SHA256_Final(&digest, &outer)
        return digest
    }

    /// SHA-256 of the concatenated parts.
    public func sha256(_ parts: [[UInt8]]) -> [UInt8] {
        var context = SHA256_CTX()
        SHA256_Init(&context)
        for part in parts {
            part.withUnsafeBytes { _ = SHA256_Update(&context, $0.baseAddress, $0.count) }
        }
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        SHA256_Final(&digest, &context)
        return digest
    }

    public func base64Encode(_ bytes: [UInt8]) -> String {
        var output = [UInt8](repeating: 0, count: 4 * ((bytes.count + 2) / 3) + 1)
        let written = bytes.withUnsafeBufferPointer { input in
            EVP_EncodeBlock(&output, input.baseAddress, Int32(input.count))
        }
        return String(decoding: output[0..<Int(written)], as: UTF8.self)
    }

    public func base64Decode(_ text: [UInt8]) -> [UInt8]? {
        // EVP_DecodeBlock tolerates whitespace and misplaced padding; accept only the standard
        // alphabet with at most two trailing '=' and add missing padding, as Svix's Python library does.
        var characters = text
        var padding = 0
        while characters.last == UInt8(ascii: "=") {
            characters.removeLast()
            padding += 1
        }
        guard padding <= 2 else { return nil }
        let valid = characters.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                true
            default: false
            }
        }
        guard valid, characters.count % 4 != 1 else { return nil }
        if characters.isEmpty { return [] }
        let missing = (4 - characters.count % 4) % 4
        guard padding == 0 || padding == missing else { return nil }
        characters += [UInt8](repeating: UInt8(ascii: "="), count: missing)
        var output = [UInt8](repeating: 0, count: characters.count / 4 * 3)
        let decoded = characters.withUnsafeBufferPointer { input in
            EVP_DecodeBlock(&output, input.baseAddress, Int32(input.count))
        }
        // EVP_DecodeBlock counts the padding's zero bytes in its result.
        guard decoded >= 0 else { return nil }
        return Array(output[0..<(Int(decoded) - missing)])
    }

    public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0 }
        }
    }
}
