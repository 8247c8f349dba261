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

serve()
