import Foundation
import Testing

/// nginx/start-workers.sh, the process-manager entry point of every deployment mode, given a
/// binary that cannot start: it must stop at once with one clear line, not hand the binary to
/// multiwatch (which respawns it in a tight loop) or to fcgiwrap (which fails every delivery).
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
        try "#!/bin/sh\necho 'error while loading shared libraries: libfcgi.so.0' >&2\nexit 127\n"
            .write(toFile: crashing, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: crashing)
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
}
