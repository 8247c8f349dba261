import CFastCGI
import ClerkWebhookCore

#if canImport(Glibc)
    import Glibc
#endif

/// Serves webhook requests as CGI (one request from the environment and stdin, then return) or,
/// when stdin is a listening socket, as FastCGI (up to `maximumRequests`, `nil` = no limit).
public struct RequestLoop {
    private let handler: WebhookHandler
    private let executor: PostgresExecutor
    private let logLevel: LogLevel

    public init(handler: WebhookHandler, executor: PostgresExecutor, logLevel: LogLevel) {
        self.handler = handler
        self.executor = executor
        self.logLevel = logLevel
    }

    /// Whether the process was started as a plain CGI program rather than on a FastCGI socket.
    /// (`FCGX_Accept_r` does not fall back to CGI by itself; it fails with ENOTSOCK.)
    public static var isCGI: Bool { FCGX_IsCGI() != 0 }

    /// Handles exactly one CGI request.
    public func serveCGI() {
        let response = serve(
            parameter: { name in name.withCString { getenv($0) }.map { String(cString: $0) } },
            readBody: { count in Self.readStandardInput(count) })
        ProcessEnvironment.write(response.cgiText, to: 1)
        // The answer and the log line are out: closing stdout and stderr lets fcgiwrap complete the
        // request now, while this process says goodbye to the database and exits off its path.
        close(1)
        close(2)
        executor.disconnect()
    }

    /// Accepts FastCGI requests on fd 0 until `maximumRequests` have been served.
    public func serveFastCGI(maximumRequests: Int?) -> Int32 {
        guard FCGX_Init() == 0 else { return 1 }
        var request = FCGX_Request()
        guard FCGX_InitRequest(&request, 0, 0) == 0 else { return 1 }
        var served = 0
        // Connecting before the request arrives takes connection set-up off the request path.
        executor.prepare()
        while maximumRequests.map({ served < $0 }) ?? true {
            guard FCGX_Accept_r(&request) >= 0 else { break }
            let envp = request.envp
            let response = serve(
                // withCString: passing `name` itself would copy it into a new C array on every lookup.
                parameter: { name in name.withCString { FCGX_GetParam($0, envp) }.map { String(cString: $0) } },
                readBody: { [input = request.in] count in Self.read(count, from: input) })
            Self.write(response.cgiText, to: request.out)
            FCGX_Finish_r(&request)
            served += 1
        }
        return 0
    }

    // Every request, whatever the mode, writes its one log line to the process's stderr: fcgiwrap
    // and the process managers pass it on to journald, `docker logs` or a file.
    private func serve(parameter: (String) -> String?, readBody: (Int) -> [UInt8]) -> WebhookResponse {
        let started = ProcessEnvironment.monotonicMicros()
        let delivery: WebhookHandler.Delivery
        switch Route(parameter: parameter) {
        case .health:
            delivery = handler.checkHealth(method: parameter("REQUEST_METHOD") ?? "", executor: executor)
        case .webhook:
            let read = Result { () throws(RequestRejection) in
                try WebhookRequest.read(parameter: parameter, readBody: readBody)
            }
            delivery = handler.handle(read, now: ProcessEnvironment.unixMillis() / 1000, executor: executor)
        }
        let elapsed = (ProcessEnvironment.monotonicMicros() - started + 500) / 1000
        let line = delivery.logLine(durationMillis: elapsed)
        if line.level >= logLevel, logLevel != .off {
            ProcessEnvironment.write(line.rendered(unixMillis: ProcessEnvironment.unixMillis()), to: 2)
        }
        return delivery.response
    }

    private static func write(_ text: String, to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = FCGX_PutStr($0.baseAddress, Int32($0.count), stream) }
        }
    }

    private static func readStandardInput(_ count: Int) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = body.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress! + filled, count - filled) }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { break }
            filled += got
        }
        return Array(body[0..<filled])
    }

    private static func read(_ count: Int, from stream: UnsafeMutablePointer<FCGX_Stream>?) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = body.withUnsafeMutableBytes { buffer in
                FCGX_GetStr(
                    buffer.baseAddress!.assumingMemoryBound(to: CChar.self) + filled, Int32(count - filled), stream)
            }
            guard got > 0 else { break }
            filled += Int(got)
        }
        return Array(body[0..<filled])
    }
}
