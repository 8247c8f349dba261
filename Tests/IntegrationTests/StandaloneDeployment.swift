import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One deployment of nginx/ that a test starts and stops itself, on its own port and socket, with
/// the staged image layout: nginx now, the workers (nginx/start-workers.sh) when asked.
final class StandaloneDeployment {
    let mode: String
    let state: String
    let base: String
    /// The program nginx names in SCRIPT_FILENAME: the staged image's, or one under `state` that
    /// does not exist until a test puts it there.
    let binary: String
    private let root: String
    private let databaseURL: String
    private var nginx: SpawnedProcess?
    private(set) var workers: SpawnedProcess?

    /// Renders the site for `mode` and starts nginx; no workers yet. `embedded`: instead of the
    /// template's own server block, an application's server block that includes only its
    /// locations (`render.sh --locations`), beside a `location /` of its own answering "the app".
    init(mode: String, databaseURL: String, missingBinary: Bool = false, embedded: Bool = false) throws {
        self.mode = mode
        self.databaseURL = databaseURL
        root = try TestEnvironment.value("CLERK_WEBHOOK_TEST_IMAGE_ROOT")
        // Under scripts/test.sh's directory, which it checks no process still names after the tests.
        state = try TestEnvironment.value("CLERK_WEBHOOK_TEST_LOG_DIR") + "/deployment-" + uniqueToken()
        try FileManager.default.createDirectory(atPath: state + "/temp", withIntermediateDirectories: true)
        let port = try freePort()
        base = "http://127.0.0.1:\(port)/functions/v1/clerk-webhook"
        binary = missingBinary ? state + "/bin/clerk-webhook" : root + "/bin/clerk-webhook"
        // render.sh [--locations] TEMPLATE NAME=value... > state/OUTPUT
        func render(_ options: [String], _ template: String, _ values: [String], to output: String) throws {
            let run = try ProcessRun(
                root + "/share/nginx/render.sh", options + [root + "/share/nginx/" + template] + values,
                environment: ["PATH": "/usr/bin:/bin"])
            guard run.status == 0 else { throw Failure("render.sh \(template): \(run.stderr)") }
            try run.stdout.write(toFile: state + "/" + output, atomically: false, encoding: .utf8)
        }
        let webhook = ["BINARY=\(binary)", "FCGI_SOCKET=\(state)/workers.sock"]
        if embedded {
            try render(["--locations"], "clerk-webhook.conf.in", webhook, to: "locations.conf")
        } else {
            try render([], "clerk-webhook.conf.in", ["LISTEN=127.0.0.1:\(port)"] + webhook, to: "site.conf")
        }
        try render(
            [], "standalone.conf.in",
            [
                "PREFIX=\(state)", "SITE=\(state)/site.conf", "ERROR_LOG=\(state)/error.log",
                "ACCESS_LOG=\(state)/access.log",
            ], to: "nginx.conf")
        if embedded {
            let site = """
                server {
                    listen 127.0.0.1:\(port);
                    server_name _;
                    client_max_body_size 16k;
                    location / {
                        return 200 'the app\\n';
                    }
                    include \(state)/locations.conf;
                }
                """
            try site.write(toFile: state + "/site.conf", atomically: false, encoding: .utf8)
        }
        let command = try asRunUser(
            ["/usr/sbin/nginx", "-p", state, "-c", state + "/nginx.conf", "-e", state + "/error.log"],
            owning: [state, state + "/temp", state + "/site.conf", state + "/nginx.conf"])
        nginx = try SpawnedProcess(command[0], Array(command.dropFirst()), environment: ["PATH": "/usr/bin:/bin"])
        let other = embedded ? 200 : 404
        guard waitUntil(seconds: 10, { (try? curl(Self.quiet, url: base + "/other"))?.status == other }) else {
            throw Failure("nginx never answered")
        }
    }

    /// Starts two workers and waits until a health check goes through them (`healthy`), or only
    /// until their socket exists.
    func startWorkers(healthy: Bool = true) throws {
        let command = try asRunUser(
            [
                "/bin/sh", "-c", #"exec "$0" "$@" >>"$WORKERS_LOG" 2>&1"#, root + "/share/nginx/start-workers.sh", mode,
                state + "/workers.sock", root + "/bin/clerk-webhook", "2",
            ], owning: [])
        workers = try SpawnedProcess(
            command[0], Array(command.dropFirst()),
            environment: [
                "PATH": "/usr/bin:/bin", "CLERK_WEBHOOK_SIGNING_SECRET": TestEnvironment.secret,
                "DATABASE_URL": databaseURL, "WORKERS_LOG": state + "/workers.log",
            ])
        let socket = state + "/workers.sock"
        guard
            waitUntil(
                seconds: 15,
                {
                    healthy
                        ? (try? curl(Self.quiet, url: base + "/health"))?.status == 200
                        : FileManager.default.fileExists(atPath: socket)
                })
        else {
            throw Failure("the workers never answered: \(log)")
        }
    }

    /// Stops the workers the way systemd or a container does (SIGTERM to the script).
    func stopWorkers() throws {
        guard let workers else { return }
        kill(workers.pid, SIGTERM)
        guard waitUntil(seconds: 10, { workers.hasExited() }) else { throw Failure("the workers did not stop") }
        self.workers = nil
    }

    /// The process ids of the clerk-webhook workers running now (the script's descendants).
    func workerProcesses() -> Set<Int32> {
        guard let workers else { return [] }
        var found: Set<Int32> = []
        var queue = [workers.pid]
        while let pid = queue.popLast() {
            let children =
                (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8))?
                .split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? []
            queue += children
            let command = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
            if command.hasPrefix("clerk-webhook") { found.insert(pid) }
        }
        return found
    }

    /// What the workers printed so far.
    var log: String { (try? String(contentsOfFile: state + "/workers.log", encoding: .utf8)) ?? "" }

    deinit {
        // SIGTERM first: the script then stops what it started in sessions of its own (fcgiwrap),
        // which killing its process group would leave running.
        try? stopWorkers()
        workers?.killGroup()
        nginx?.killGroup()
        // What the workers printed stays for scripts/test.sh's scan for secrets and personal data.
        if let logs = ProcessInfo.processInfo.environment["CLERK_WEBHOOK_TEST_LOG_DIR"] {
            try? FileManager.default.copyItem(
                atPath: state + "/workers.log", toPath: logs + "/deployment-\(mode)-\(uniqueToken()).out")
        }
        try? FileManager.default.removeItem(atPath: state)
    }

    /// Polls that expect refused connections keep curl's "Failed to connect" out of the test log.
    static let quiet = ["--no-show-error"]

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
