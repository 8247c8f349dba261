import ArgumentParser
import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation

/// What `sign` and `send` share: the payload, the secret, the id, and signing.
struct SigningOptions: ParsableArguments {
    @Argument(help: "The JSON payload, e.g. fixtures/user.created.json, or - for standard input.")
    var fixture: String

    /// Whether curl can read the payload itself again (`--data-binary @file`): a regular file,
    /// not standard input or a pipe, which the signing already read.
    var isRereadable: Bool {
        fixture != "-"
            && (try? FileManager.default.attributesOfItem(atPath: fixture)[.type] as? FileAttributeType)
                == .typeRegular
    }

    @Option(help: "Signing secret (default: $CLERK_WEBHOOK_SIGNING_SECRET or $CLERK_WEBHOOK_SECRET).")
    var secret: String?

    @Option(help: "Replace the payload's event type (the body is then re-serialized).")
    var type: String?

    @Option(help: "The svix-id to use (default: a new random msg_ id).")
    var id: String?

    /// The body to send and the three svix headers, signed now.
    func signed() throws -> (body: [UInt8], headers: [(String, String)]) {
        let environment = ProcessEnvironment.variables()
        if secret == nil {
            try requireUsable(["CLERK_WEBHOOK_SIGNING_SECRET", "CLERK_WEBHOOK_SECRET"], in: environment)
        }
        guard
            let secrets = secret ?? environment["CLERK_WEBHOOK_SIGNING_SECRET"] ?? environment["CLERK_WEBHOOK_SECRET"]
        else {
            throw CommandError("no secret: pass --secret or set CLERK_WEBHOOK_SIGNING_SECRET")
        }
        let verifier: SignatureVerifier
        do {
            verifier = try SignatureVerifier(secrets: secrets, variable: "the signing secret", crypto: OpenSSLCrypto())
        } catch {
            throw CommandError(error.message)
        }
        // Through a handle, so that pipes (`<(...)`, /dev/stdin) read like files.
        guard let handle = fixture == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: fixture),
            let original = try? handle.readToEnd() ?? Data()  // nil: an empty file
        else {
            throw CommandError("cannot read \(fixture == "-" ? "standard input" : fixture)")
        }
        var body = Array(original)
        if let type {
            guard var object = try? JSONSerialization.jsonObject(with: original) as? [String: Any] else {
                throw CommandError("\(fixture) is not a JSON object, so --type cannot be applied")
            }
            object["type"] = type
            body = Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        }
        let messageID = id ?? "msg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let timestamp = Int64(Date().timeIntervalSince1970)
        let signature = verifier.signature(id: messageID, timestamp: timestamp, body: body)
        return (body, [("svix-id", messageID), ("svix-timestamp", String(timestamp)), ("svix-signature", signature)])
    }
}

/// Signs a fixture like Svix would, for local testing with curl.
struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print svix headers, or a ready curl line, for a payload signed now (valid for 5 minutes).",
        discussion: """
            Example:
              export CLERK_WEBHOOK_SIGNING_SECRET=whsec_...
              clerk-sync sign fixtures/user.created.json \\
                --curl http://127.0.0.1:8080/functions/v1/clerk-webhook
            """
    )

    @OptionGroup var signing: SigningOptions

    @Option(help: ArgumentHelp("Print a curl command that posts the signed payload to this URL.", valueName: "url"))
    var curl: String?

    func run() throws {
        let (body, headers) = try signing.signed()
        guard let url = curl else {
            for (name, value) in headers { print("\(name): \(value)") }
            return
        }
        var words = ["curl", "-sS", "-i", "-X", "POST", shellQuoted(url), "-H", "'Content-Type: application/json'"]
        for (name, value) in headers { words += ["-H", shellQuoted("\(name): \(value)")] }
        let data =
            signing.type == nil && signing.isRereadable ? "@" + signing.fixture : String(decoding: body, as: UTF8.self)
        words += ["--data-binary", shellQuoted(data)]
        print(words.joined(separator: " "))
    }
}

/// Signs a fixture and POSTs it with curl.
struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign a payload now and POST it; print the HTTP status and the response body.",
        discussion: """
            Exits non-zero unless the answer is 2xx.

            Example:
              clerk-sync send fixtures/user.updated.json \\
                --url http://127.0.0.1:8080/functions/v1/clerk-webhook
            """
    )

    @OptionGroup var signing: SigningOptions

    @Option(help: "The webhook URL.")
    var url: String

    func run() throws {
        let (body, headers) = try signing.signed()
        var arguments = ["-sS", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@-"]
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        let run = try Curl.run(arguments + ["-w", "\n%{http_code}", url], input: Data(body))
        let text = String(decoding: run.output, as: UTF8.self)
        guard run.status == 0, let split = text.lastIndex(of: "\n"),
            let status = Int(text[text.index(after: split)...])
        else {
            throw CommandError("could not reach \(url) (curl exit \(run.status))")
        }
        print("\(status) \(text[..<split])")
        if !(200..<300).contains(status) { throw ExitCode(1) }
    }
}

func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
}
