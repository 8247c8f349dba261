import ClerkWebhookCore
import ClerkWebhookSystem
import Testing

/// Public Svix / Standard Webhooks vectors and the negative cases the official libraries test.
@Suite struct SignatureVerifierTests {
    static let secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let idA = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestampA: Int64 = 1_614_265_330
    static let bodyA = Array(#"{"test": 2432232314}"#.utf8)
    static let signatureA = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    static func verifier(_ secrets: String = secretA) throws -> SignatureVerifier {
        try SignatureVerifier(secrets: secrets, variable: "TEST_SECRET", crypto: OpenSSLCrypto())
    }

    static func headers(id: String? = idA, timestamp: String? = String(timestampA), signature: String? = signatureA)
        -> WebhookHeaders
    {
        WebhookHeaders(id: id, timestamp: timestamp, signature: signature)
    }

    /// RFC 4231's HMAC-SHA-256 vectors (cases 1, 2, 6, 7: short keys and keys longer than a block),
    /// each message given whole and split in parts, as the verifier passes id, timestamp and body.
    @Test(
        "HMAC-SHA256 reproduces RFC 4231",
        arguments: [
            (
                [UInt8](repeating: 0x0B, count: 20), "Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
            ),
            (
                Array("Jefe".utf8), "what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
            (
                [UInt8](repeating: 0xAA, count: 131), "Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            ),
            (
                [UInt8](repeating: 0xAA, count: 131),
                "This is a test using a larger than block-size key and a larger than block-size data. The key needs to"
                    + " be hashed before being used by the HMAC algorithm.",
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
            ),
        ])
    func hmacVectors(key: [UInt8], message: String, expected: String) {
        let bytes = Array(message.utf8)
        for parts in [[bytes], [Array(bytes.prefix(3)), [], Array(bytes.dropFirst(3))]] {
            #expect(lowercaseHex(OpenSSLCrypto().hmacSHA256(key: key, message: parts)) == expected)
        }
    }

    @Test(
        "signing reproduces the published vectors",
        arguments: [
            (secretA, idA, timestampA, #"{"test": 2432232314}"#, signatureA),
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", idA, timestampA, #"{"test": 2432232314}"#, signatureA),
            (
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1_649_367_553,
                #"{"email":"test@example.com","username":"test_user"}"#,
                "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
            ),
            (
                "whsec_plJ3nmyCDGBKInavdOK15jsl", "msg_loFOjxBNrRLzqYUf", 1_731_705_121,
                #"{"event_type":"ping","data":{"success":true}}"#, "v1,rAvfW3dJ/X/qxhsaXPOyyCGmRKsaKWcsNccKXlIktD0="
            ),
            (secretA, idA, timestampA, #"{"test": 2432232315}"#, "v1,TW/pFPJ2/LwRQdgfM7WklE9yJiRyMs0cTpVPK8leNAU="),
            (secretA, idA, timestampA + 1, #"{"test": 2432232314}"#, "v1,l6C9/1+N/lSU6+gfh+YEGqTK2aQ+k8nMEWDvvCgHh7U="),
            (secretA, idA, timestampA, "", "v1,v48jdbgvh29KJz2Qc+ghw8G6vG3nAKnujWBg8oM/62A="),
        ])
    func signsVectors(secret: String, id: String, timestamp: Int64, body: String, expected: String) throws {
        let verifier = try Self.verifier(secret)
        #expect(verifier.signature(id: id, timestamp: timestamp, body: Array(body.utf8)) == expected)
        try verifier.verify(
            headers: WebhookHeaders(id: id, timestamp: String(timestamp), signature: expected),
            body: Array(body.utf8), now: timestamp)
    }

    @Test(
        "large payloads (C# vectors)",
        arguments: [
            (1024 * 1024, "v1,txpEUxqWZJ5nteTnymUVa+7C4NHpBeXJ6CsBAW0c3/A="),
            (256 * 1024, "v1,Mw4Pe2WgApuT7NSqnSq0PQPV9gbLdggCl9B865x5Xh0="),
            (256 * 1024 - 1, "v1,NTItnqyWMoFhk2Bbe5V/BMdcFRWgcSQaTgqLHX7FC7c="),
        ])
    func largePayloads(size: Int, expected: String) throws {
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: size)
        #expect(try Self.verifier().signature(id: Self.idA, timestamp: Self.timestampA, body: body) == expected)
    }

    @Test("the raw bytes of the secret string are not the key")
    func rawSecretIsNotTheKey() throws {
        let raw = try Self.verifier(
            "whsec_" + OpenSSLCrypto().base64Encode(Array("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".utf8)))
        #expect(
            raw.signature(id: Self.idA, timestamp: Self.timestampA, body: Self.bodyA)
                == "v1,ELhqG0Ku1gwOc1f4jyKdp3SFGFLAOdJ9bvpWLciCakI=")
    }

    @Test("one valid entry among several passes")
    func multipleSignatures() throws {
        let header = [
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            Self.signatureA, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        ].joined(separator: " ")
        try Self.verifier().verify(headers: Self.headers(signature: header), body: Self.bodyA, now: Self.timestampA)
    }

    @Test("any configured secret may match (rotation)")
    func rotation() throws {
        let verifier = try Self.verifier("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD, " + Self.secretA)
        try verifier.verify(headers: Self.headers(), body: Self.bodyA, now: Self.timestampA)
    }

    @Test(
        "wrong or malformed signatures fail",
        arguments: [
            ("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", SignatureFailure.noMatchingSignature),
            ("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", .noMatchingSignature),
            ("v1,dawfeoifkpqwoekfpqoekf", .noVersion1Signature),
            ("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLawdd", .noVersion1Signature),
            ("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", .noVersion1Signature),
            ("v1,", .noVersion1Signature),
            ("v1,g0hM9", .noVersion1Signature),
            ("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", .noVersion1Signature),
            ("v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", .noVersion1Signature),
            ("invalid_signature", .noVersion1Signature),
            ("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", .noVersion1Signature),
            (
                "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q="
                    + " v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=", .noMatchingSignature
            ),
        ])
    func rejectsSignature(header: String, failure: SignatureFailure) throws {
        #expect(throws: failure) {
            try Self.verifier().verify(headers: Self.headers(signature: header), body: Self.bodyA, now: Self.timestampA)
        }
    }

    @Test("a tampered body or timestamp fails")
    func tampered() throws {
        let verifier = try Self.verifier()
        #expect(throws: SignatureFailure.noMatchingSignature) {
            try verifier.verify(
                headers: Self.headers(), body: Array(#"{"test": 2432232315}"#.utf8), now: Self.timestampA)
        }
        #expect(throws: SignatureFailure.noMatchingSignature) {
            try verifier.verify(
                headers: Self.headers(timestamp: String(Self.timestampA + 1)), body: Self.bodyA, now: Self.timestampA)
        }
    }

    @Test("timestamps: ±300 s pass, ±301 s and non-integers fail")
    func timestamps() throws {
        let verifier = try Self.verifier()
        try verifier.verify(headers: Self.headers(), body: Self.bodyA, now: Self.timestampA + 300)
        try verifier.verify(headers: Self.headers(), body: Self.bodyA, now: Self.timestampA - 300)
        #expect(throws: SignatureFailure.timestampTooOld(seconds: 301)) {
            try verifier.verify(headers: Self.headers(), body: Self.bodyA, now: Self.timestampA + 301)
        }
        #expect(throws: SignatureFailure.timestampTooNew(seconds: 301)) {
            try verifier.verify(headers: Self.headers(), body: Self.bodyA, now: Self.timestampA - 301)
        }
        #expect(
            SignatureFailure.timestampTooNew(seconds: 3600).description.hasPrefix(
                "timestamp too new: 3600 s after this host's clock (tolerance 300 s;"))
        #expect(SignatureFailure.timestampTooOld(seconds: 301).description.contains("this host's clock runs ahead"))
        for bad in ["-1", "hello", "1614265330.5", "1614265330abc", " ", "+1614265330", "99999999999999999999"] {
            #expect(throws: SignatureFailure.invalidTimestamp) {
                try verifier.verify(headers: Self.headers(timestamp: bad), body: Self.bodyA, now: Self.timestampA)
            }
        }
    }

    @Test("each missing header fails")
    func missingHeaders() throws {
        let verifier = try Self.verifier()
        #expect(throws: SignatureFailure.missingHeader("svix-id")) {
            try verifier.verify(headers: Self.headers(id: nil), body: Self.bodyA, now: Self.timestampA)
        }
        #expect(throws: SignatureFailure.missingHeader("svix-timestamp")) {
            try verifier.verify(headers: Self.headers(timestamp: nil), body: Self.bodyA, now: Self.timestampA)
        }
        #expect(throws: SignatureFailure.missingHeader("svix-signature")) {
            try verifier.verify(headers: Self.headers(signature: nil), body: Self.bodyA, now: Self.timestampA)
        }
    }

    @Test(
        "empty or undecodable secrets are configuration errors",
        arguments: [
            "", "   ", "whsec_", "whsec_!!!notbase64", "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=x",
        ])
    func badSecrets(secret: String) {
        #expect(throws: ConfigurationError.self) { try Self.verifier(secret) }
    }

    @Test("secret errors never quote the secret")
    func secretErrorIsRedacted() {
        let error = #expect(throws: ConfigurationError.self) { try Self.verifier("whsec_SECRETVALUE%%") }
        #expect(error?.message.contains("SECRETVALUE") == false)
        #expect(error?.message.contains("TEST_SECRET") == true)
    }

    @Test(
        "a secret in quotes, or a Clerk API key in its place, is named as such (and still not quoted)",
        arguments: [
            (#""whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw""#, "in quotes"),
            ("'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'", "in quotes"),
            ("sk_test_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "a Clerk API key"),
            ("pk_live_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "a Clerk API key"),
        ])
    func secretHints(secret: String, hint: String) {
        let error = #expect(throws: ConfigurationError.self) { try Self.verifier(secret) }
        #expect(error?.message.contains(hint) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == false)
    }
}
