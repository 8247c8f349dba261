import ArgumentParser
import ClerkWebhookCore
import ClerkWebhookSystem
import Foundation

/// Where the fallbacks find Clerk's Backend API and the secret key.
struct ClerkAPIOptions: ParsableArguments {
    @Option(
        name: .customLong("api-url"),
        help: ArgumentHelp(
            "Backend API base URL (default: $CLERK_API_URL or \(ClerkAPI.defaultBaseURL)).", valueName: "url"))
    var apiURL: String?

    @Option(
        help: ArgumentHelp(
            "Retries per request after 429 (waiting Retry-After), 5xx or no answer (backoff 1 s, 2 s, 4 s...).",
            valueName: "n"))
    var retries = 5

    func validate() throws {
        guard (0...20).contains(retries) else { throw ValidationError("--retries must be between 0 and 20") }
    }

    /// The client for the key and URL the environment gives; a one-line error when they are unusable.
    func client() throws -> ClerkAPIClient {
        let environment = ProcessEnvironment.variables()
        try requireUsable(["CLERK_SECRET_KEY"], in: environment)
        guard let key = environment["CLERK_SECRET_KEY"], !key.isEmpty else {
            throw CommandError(
                "no Clerk secret key: set CLERK_SECRET_KEY (or CLERK_SECRET_KEY_FILE) to the instance's sk_ key")
        }
        guard key.allSatisfy({ !$0.isWhitespace && $0.isASCII }) else {
            throw CommandError("CLERK_SECRET_KEY contains whitespace or non-ASCII characters")
        }
        // Clerk's keys say what they are by their prefix; the key itself is never shown.
        if key.hasPrefix("whsec_") || key.hasPrefix("pk_") {
            throw CommandError(
                "CLERK_SECRET_KEY holds a \(key.hasPrefix("pk_") ? "publishable key (pk_)" : "webhook signing secret (whsec_)"):"
                    + " it takes the instance's secret key (sk_live_… or sk_test_…) from the Clerk Dashboard's API keys"
            )
        }
        var base = apiURL ?? environment["CLERK_API_URL"] ?? ClerkAPI.defaultBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        guard base.hasPrefix("https://") || base.hasPrefix("http://") else {
            throw CommandError("the Clerk API URL must start with https:// (got \(base))")
        }
        return ClerkAPIClient(baseURL: base, secretKey: key, policy: RetryPolicy(maximumAttempts: retries + 1))
    }
}

/// A GET against the Backend API, run with /usr/bin/curl (TLS, proxies and CA bundles as everywhere
/// else on the host). The secret key reaches curl on stdin, never on its command line, where any
/// local user could read it. 429, 5xx and transport failures are retried per `RetryPolicy`.
final class ClerkAPIClient {
    let baseURL: String
    private let secretKey: String
    let policy: RetryPolicy
    /// Requests sent, retries included: what the run cost against Clerk's rate limit.
    private(set) var requestCount = 0

    init(baseURL: String, secretKey: String, policy: RetryPolicy = RetryPolicy()) {
        self.baseURL = baseURL
        self.secretKey = secretKey
        self.policy = policy
    }

    /// Stops the whole run: the key is refused.
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    /// This request failed after its retries; the run may go on with other users.
    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    /// GETs `path` (relative to the base URL) and returns the status and body of the answer the
    /// caller should interpret (2xx, 404, other 4xx).
    func get(_ path: String) throws -> (status: Int, body: [UInt8]) {
        var attempt = 0
        while true {
            attempt += 1
            requestCount += 1
            let answer = try send(path)
            switch policy.decide(status: answer.status, retryAfter: answer.retryAfter, attempt: attempt) {
            case .use:
                return (answer.status!, answer.body)
            case .retry(let seconds):
                let why = answer.status.map { "HTTP \($0)" } ?? answer.transportError ?? "no answer"
                note("GET \(Self.route(path)): \(why), retrying in \(Self.format(seconds)) s")
                Thread.sleep(forTimeInterval: seconds)
            case .giveUp(let reason):
                throw Failed(description: "GET \(Self.route(path)): \(reason)" + Self.detail(answer))
            case .stop(let reason):
                throw Refused(description: reason + Self.detail(answer))
            }
        }
    }

    private struct Answer {
        var status: Int?
        var retryAfter: String?
        var body: [UInt8]
        var transportError: String?
    }

    private func send(_ path: String) throws -> Answer {
        let arguments = [
            "-sS", "--connect-timeout", "10", "--max-time", "60", "-H", "@-", "-H", "Accept: application/json",
            "-w", "\n%{http_code} %header{retry-after}", baseURL + path,
        ]
        let run = try Curl.run(arguments, input: Data("Authorization: Bearer \(secretKey)\n".utf8))
        guard run.status == 0 else {
            let message = run.errors.split(separator: "\n").last.map(String.init) ?? "curl exit \(run.status)"
            return Answer(status: nil, body: [], transportError: message)
        }
        let bytes = run.output
        guard let split = bytes.lastIndex(of: UInt8(ascii: "\n")) else {
            return Answer(status: nil, body: [], transportError: "curl printed no status")
        }
        let trailer = String(decoding: bytes[(split + 1)...], as: UTF8.self).split(separator: " ", maxSplits: 1)
        let status = trailer.first.flatMap { Int($0) }
        return Answer(
            status: status == 0 ? nil : status, retryAfter: trailer.count > 1 ? String(trailer[1]) : nil,
            body: Array(bytes[..<split]))
    }

    // Paths without their query, so progress lines stay short.
    private static func route(_ path: String) -> String {
        String(path.prefix { $0 != "?" })
    }

    private static func detail(_ answer: Answer) -> String {
        if let summary = ClerkAPI.errorSummary(answer.body) { return " (\(summary))" }
        return answer.transportError.map { " (\($0))" } ?? ""
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

/// A progress or diagnostic line on stderr (stdout carries the report).
func note(_ text: String) {
    FileHandle.standardError.write(Data(("clerk-sync: " + text + "\n").utf8))
}

/// /usr/bin/curl as a child process: TLS, proxies and CA bundles as everywhere else on the host.
enum Curl {
    /// Runs curl with `arguments`, feeding `input` on stdin (a request body, or headers that must not
    /// appear on a command line); returns its exit status, stdout and stderr.
    static func run(_ arguments: [String], input: Data) throws -> (status: Int32, output: [UInt8], errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            throw CommandError("cannot run /usr/bin/curl: \(error.localizedDescription)")
        }
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = Array(stdout.fileHandleForReading.readDataToEndOfFile())
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output, errors)
    }
}
