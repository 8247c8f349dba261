import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// nginx/start-workers.sh, the process-manager entry point of every deployment mode. Given a
/// binary that cannot start, it must stop at once with one clear line, not hand the binary to
/// multiwatch (which respawns it in a tight loop) or to fcgiwrap (which fails every delivery).
/// Given SIGTERM, it must stop every worker it started, as a container or a hand-run script
/// expects (not only systemd, which kills the whole control group anyway).
@Suite struct WorkerScriptTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("nginx/start-workers.sh").path

    @Test(
        "a binary that cannot start is refused with its error, in every mode", arguments: ["cgi", "warm", "persistent"])
    func refusesBrokenBinary(mode: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("workers-" + uniqueToken())
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Stands for a binary whose shared libraries are missing: the loader complains and exits 127.
        let crashing = directory.appendingPathComponent("crashing").path
        try writeExecutable(
            "#!/bin/sh\necho 'error while loading shared libraries: libfcgi.so.0' >&2\nexit 127\n", to: crashing)
        let socket = directory.appendingPathComponent("workers.sock").path

        for (binary, expected) in [
            (crashing, "error while loading shared libraries"), (directory.path + "/missing", "No such file"),
        ] {
            // A bounded wait: without the check the script would serve (and respawn) until killed.
            let run = try ProcessRun(
                "/usr/bin/timeout", ["10", Self.script, mode, socket, binary, "2"],
                environment: ["PATH": "/usr/bin:/bin"])
            #expect(run.status == 1, "\(binary): \(run.stderr)")
            #expect(run.stderr.contains("\(binary) cannot start"), "\(run.stderr)")
            #expect(run.stderr.contains(expected), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: socket))
        }
    }

    @Test(
        "SIGTERM to the script stops every worker it started, in every mode", arguments: ["cgi", "warm", "persistent"])
    func termStopsEveryWorker(mode: String) throws {
        let database = try TestDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("workers-" + uniqueToken())
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let socket = directory.appendingPathComponent("workers.sock").path

        let script = try SpawnedProcess(
            Self.script, [mode, socket, try TestEnvironment.value("CLERK_WEBHOOK_TEST_BINARY"), "2"],
            environment: [
                "PATH": "/usr/bin:/bin", "CLERK_WEBHOOK_SIGNING_SECRET": TestEnvironment.secret,
                "DATABASE_URL": database.url,
            ])
        defer { script.killGroup() }

        #expect(waitUntil(seconds: 10) { acceptsConnections(socket) }, "the workers never listened on \(socket)")
        kill(script.pid, SIGTERM)
        #expect(waitUntil(seconds: 10) { script.hasExited() }, "the script did not exit on SIGTERM")
        // Whatever still holds the listening socket would go on taking nginx's requests.
        #expect(waitUntil(seconds: 5) { !acceptsConnections(socket) }, "a worker outlived the script")
    }

    /// Writes an executable file through a descriptor closed on exec. A child another test starts
    /// while it is open would otherwise keep it open for its whole life (Foundation's writes do
    /// not set O_CLOEXEC), and running the file would fail with "Text file busy".
    func writeExecutable(_ text: String, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw POSIXError(.EIO) }
    }

    /// Whether a process is listening on the Unix socket at `path` (connect succeeds).
    func acceptsConnections(_ path: String) -> Bool {
        let descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }
}

/// A child process started with default signal handling and nothing blocked, in its own process
/// group, its output discarded and no other descriptor inherited. (Foundation's Process passes on the blocked signals of the thread
/// that starts it, and test threads block SIGTERM, so a script it starts would never see one.)
struct SpawnedProcess {
    let pid: pid_t

    init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGUSR1] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Nothing else: a pipe another test thread has open at this moment (Foundation's Process
        // does not mark its pipes close-on-exec) would stay open in a long-lived child, and the
        // reader of that pipe would wait for its end until the child exits.
        guard let closeFrom = Self.addCloseFrom, closeFrom(&actions, 3) == 0 else { throw POSIXError(.ENOSYS) }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for string in argv + envp { free(string) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EINVAL) }
        self.pid = pid
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34 and later), which Swift's Glibc
    /// module does not declare.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom = dlsym(
        UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np"
    ).map { unsafeBitCast($0, to: AddCloseFrom.self) }

    /// Whether the process has exited (reaped here, so ask again only until it says true).
    func hasExited() -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) != 0
    }

    /// Kills whatever is left of the process group it leads.
    func killGroup() { kill(-pid, SIGKILL) }
}
