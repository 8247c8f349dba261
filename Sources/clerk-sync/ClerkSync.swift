import ArgumentParser
import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation

/// `clerk-sync`: operator tooling around the webhook, over the same library.
@main
struct ClerkSync: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clerk-sync",
        abstract: "Companion tooling for clerk-webhook.",
        subcommands: [Sign.self]
    )
}

/// Signs a fixture like Svix would, for local testing with curl.
struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print svix headers (or a ready curl line) for a payload signed now.",
        discussion: """
            Example:
              export CLERK_WEBHOOK_SIGNING_SECRET=whsec_...
              clerk-sync sign fixtures/user.created.json --curl http://127.0.0.1:8080/functions/v1/clerk-webhook
            """
    )

    @Argument(help: "The JSON payload to sign, e.g. fixtures/user.created.json.")
    var fixture: String

    @Option(help: "Signing secret (default: $CLERK_WEBHOOK_SIGNING_SECRET or $CLERK_WEBHOOK_SECRET).")
    var secret: String?

    @Option(help: "Replace the payload's event type.")
    var type: String?

    @Option(help: "The svix-id to use (default: a new random msg_ id).")
    var id: String?

    @Option(help: "Print a curl command that posts the signed payload to this URL.")
    var curl: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard
            let secrets = secret ?? environment["CLERK_WEBHOOK_SIGNING_SECRET"] ?? environment["CLERK_WEBHOOK_SECRET"]
        else {
            throw ValidationError("no secret: pass --secret or set CLERK_WEBHOOK_SIGNING_SECRET")
        }
        let verifier: SignatureVerifier
        do {
            verifier = try SignatureVerifier(secrets: secrets, variable: "the signing secret", crypto: OpenSSLCrypto())
        } catch {
            throw ValidationError(error.message)
        }
        guard let original = FileManager.default.contents(atPath: fixture) else {
            throw ValidationError("cannot read \(fixture)")
        }
        var body = Array(original)
        if let type {
            guard var object = try? JSONSerialization.jsonObject(with: original) as? [String: Any] else {
                throw ValidationError("\(fixture) is not a JSON object, so --type cannot be applied")
            }
            object["type"] = type
            body = Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        }
        let messageID = id ?? "msg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let timestamp = Int64(Date().timeIntervalSince1970)
        let signature = verifier.signature(id: messageID, timestamp: timestamp, body: body)
        let headers = [("svix-id", messageID), ("svix-timestamp", String(timestamp)), ("svix-signature", signature)]

        guard let url = curl else {
            for (name, value) in headers { print("\(name): \(value)") }
            return
        }
        var words = ["curl", "-sS", "-i", "-X", "POST", shellQuoted(url), "-H", "'Content-Type: application/json'"]
        for (name, value) in headers { words += ["-H", shellQuoted("\(name): \(value)")] }
        if type == nil {
            words += ["--data-binary", shellQuoted("@" + fixture)]
        } else {
            words += ["--data-binary", shellQuoted(String(decoding: body, as: UTF8.self))]
        }
        print(words.joined(separator: " "))
    }
}

func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
}
