import ClerkWebhookCore
import ClerkWebhookSystem

#if canImport(Glibc)
    import Glibc
#endif

// A libFuzzer target over what an unauthenticated sender controls: the request's CGI variables and
// body, read, verified (real OpenSSL HMAC) and decoded exactly as the webhook does. The input is
// split into header values and a body; one variant is signed correctly so decoding is reached too.
// Built only by Tests/Fuzz/run.sh (`-sanitize=fuzzer,address`); see README. main hands over to libFuzzer's
// driver, so the usual libFuzzer flags apply (-runs=N, -max_total_time=S, corpus directories).

private let crypto = OpenSSLCrypto()
private let verifier = try! SignatureVerifier(
    secrets: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", variable: "fuzz", crypto: crypto)
private let now: Int64 = 1_614_265_330

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: start, count: count))
    // Layout: id \n timestamp \n signature \n body (missing parts stay missing).
    let parts = input.split(separator: UInt8(ascii: "\n"), maxSplits: 3, omittingEmptySubsequences: false)
    func text(_ index: Int) -> String? {
        index < parts.count ? String(decoding: parts[index], as: UTF8.self) : nil
    }
    let body = parts.count > 3 ? Array(parts[3]) : []
    var variables = ["REQUEST_METHOD": "POST", "CONTENT_LENGTH": String(body.count)]
    variables["HTTP_SVIX_ID"] = text(0)
    variables["HTTP_SVIX_TIMESTAMP"] = text(1)
    variables["HTTP_SVIX_SIGNATURE"] = text(2)

    let handler = WebhookHandler(verifier: .success(verifier))
    let read = Result { () throws(RequestRejection) in
        try WebhookRequest.read(parameter: { variables[$0] }, readBody: { Array(body.prefix($0)) })
    }
    _ = handler.handle(read, now: now, executor: NoDatabase())

    // The same body, correctly signed: exercises the decoder and planner behind verification.
    let id = "msg_fuzz"
    let signed = WebhookHeaders(
        id: id, timestamp: String(now), signature: verifier.signature(id: id, timestamp: now, body: body))
    _ = handler.handle(
        .success(WebhookRequest(method: "POST", headers: signed, body: body)), now: now, executor: NoDatabase())

    // The decoder builds only ClerkEvent.shape of a body and skips the rest: it must accept and
    // reject exactly what a whole parse does, and keep the same values.
    let whole = try? JSONParser.parse(body)
    if (try? JSONParser.parse(body, keeping: ClerkEvent.shape)) != whole?.projected(to: ClerkEvent.shape) {
        fatalError("JSONParser.parse(_:keeping:) disagrees with a whole parse")
    }
    return 0
}

/// The fuzzer never reaches a database: every statement "fails" as if the database were down,
/// which exercises the 503 path without I/O.
private struct NoDatabase: StatementExecutor {
    func execute(_ statement: PlannedStatement) throws(DatabaseError) -> String? {
        _ = statement.parameters.count
        throw DatabaseError(sqlState: nil, message: "fuzzing: no database", connectionLost: true)
    }
}

// Ordinary builds (swift build, swift test) have no libFuzzer runtime to link against: there the
// binary only says how to build it for real.
#if FUZZING
    @_silgen_name("LLVMFuzzerRunDriver")
    private func runDriver(
        _ argc: UnsafeMutablePointer<Int32>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32

    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(
        runDriver(&argc, &argv) { data, size in
            guard let data else { return 0 }
            return fuzz(data, size)
        })
#else
    print("clerk-webhook-fuzz: build and run it with Tests/Fuzz/run.sh (libFuzzer + AddressSanitizer)")
    exit(2)
#endif
