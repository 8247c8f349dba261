import ClerkWebhookCore
import ClerkWebhookSystem

#if canImport(Glibc)
    import Glibc
#endif

// Read the configuration once, wire the pipeline, serve. A configuration error does not stop the
// process: every delivery then answers 500 and logs why, so the sender keeps retrying until it is fixed.
// In a function rather than top-level code: this module is built without Swift Concurrency
// (Package.swift), and top-level globals would need its main-actor isolation.
func serve() -> Never {
    let environment = ProcessEnvironment.variables()
    let crypto = OpenSSLCrypto()
    let config = Result { () throws(ConfigurationError) in try WebhookConfig(environment: environment) }
    let verifier = config.flatMap { config in
        Result { () throws(ConfigurationError) in
            try SignatureVerifier(
                secrets: config.signingSecrets, variable: config.signingSecretsVariable, crypto: crypto)
        }
    }
    // Without a usable configuration the loop still runs (and answers 500); these fall back to defaults.
    let settings = try? config.get()
    let loop = RequestLoop(
        handler: WebhookHandler(verifier: verifier),
        executor: PostgresExecutor(
            url: settings?.databaseURL ?? environment["DATABASE_URL"],
            statementTimeoutMillis: settings.map { $0.statementTimeoutMillis }
                ?? WebhookConfig.defaultStatementTimeoutMillis),
        logLevel: settings?.logLevel ?? .info)

    if RequestLoop.isCGI {
        loop.serveCGI()
    } else {
        exit(loop.serveFastCGI(maximumRequests: settings.map { $0.maximumRequests } ?? 1))
    }
    exit(0)
}

/// What `clerk-webhook --help` prints: run by hand outside any web server, it would otherwise
/// answer an empty CGI request.
let usage = """
    clerk-webhook: keeps a Postgres users table in sync with Clerk's user events, delivered by Svix.
    It is not run by hand: nginx hands it requests, as CGI through fcgiwrap (one process per request)
    or as FastCGI workers under spawn-fcgi + multiwatch. nginx/start-workers.sh starts either; the
    README has the set-up, and clerk-sync has the tools (sign, send, migrate, status, reconcile...).

    Environment: CLERK_WEBHOOK_SIGNING_SECRET (or _FILE), DATABASE_URL (or _FILE),
    CLERK_WEBHOOK_MAX_REQUESTS, CLERK_WEBHOOK_STATEMENT_TIMEOUT_MS, CLERK_WEBHOOK_LOG_LEVEL.

    """

// Only outside a CGI request (no REQUEST_METHOD): a web server never passes these arguments. argc
// first, so that a request (argc 1) builds no argument strings.
if CommandLine.argc == 2, getenv("REQUEST_METHOD") == nil,
    let argument = CommandLine.unsafeArgv[1].map({ String(cString: $0) }), argument == "--help" || argument == "-h"
{
    ProcessEnvironment.write(usage, to: 1)
    exit(0)
}
serve()
