import Foundation

/// Tests/ClerkAPIStandIn/clerk_api.py, started on 127.0.0.1 for one test: Clerk's Backend API
/// cannot be reached from here, so this serves its documented JSON, pagination and errors.
final class ClerkAPIStandIn {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ClerkAPIStandIn/clerk_api.py").path
    static let secretKey = "sk_test_standin_" + uniqueToken()

    /// An injected answer for the next `times` requests to `path` (`*`: any path).
    struct Fault {
        var path: String
        var status: Int
        var retryAfter: String? = nil
        var times = 1
    }

    let directory: URL
    private let process = Process()
    /// The base URL to pass as CLERK_API_URL.
    private(set) var baseURL = ""

    /// Starts the stand-in with `users` (Clerk `User` JSON objects). `deletedAfterListRequests`: the
    /// users that are gone once that many `GET /users` pages have been answered.
    init(
        users: [String], faults: [Fault] = [], unlisted: [String] = [],
        deletedAfterListRequests: [Int: [String]] = [:]
    ) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-api-" + uniqueToken())
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try setState(
            users: users, faults: faults, unlisted: unlisted, deletedAfterListRequests: deletedAfterListRequests)
        let portFile = directory.appendingPathComponent("port").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            Self.script, "--state", directory.appendingPathComponent("state.json").path, "--port-file", portFile,
            "--log", directory.appendingPathComponent("requests.jsonl").path,
        ]
        try process.run()
        for _ in 0..<500 {
            if let port = try? String(contentsOfFile: portFile, encoding: .utf8), !port.isEmpty {
                baseURL = "http://127.0.0.1:\(port)/v1"
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        stop()
        throw StartFailure()
    }

    struct StartFailure: Error, CustomStringConvertible {
        var description: String { "the Clerk API stand-in did not start (is python3 installed?)" }
    }

    deinit { stop() }

    func stop() {
        if process.isRunning {
            // SIGKILL: children of the test runner inherit its blocked signal mask, SIGTERM included.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Replaces what "Clerk" holds; read again on the next request.
    func setState(
        users: [String], faults: [Fault] = [], unlisted: [String] = [],
        deletedAfterListRequests: [Int: [String]] = [:]
    ) throws {
        let faultJSON = faults.enumerated().map { index, fault in
            #"{"id":"f\#(index)-\#(uniqueToken())","path":"\#(fault.path)","status":\#(fault.status),"times":\#(fault.times)"#
                + (fault.retryAfter.map { #","retry_after":"\#($0)""# } ?? "") + "}"
        }
        let unlistedJSON = unlisted.map { "\"\($0)\"" }
        let deletionsJSON = deletedAfterListRequests.map { after, ids in
            "\"\(after)\":[" + ids.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        }
        let state = """
            {"secret_key":"\(Self.secretKey)","users":[\(users.joined(separator: ","))],\
            "faults":[\(faultJSON.joined(separator: ","))],"unlisted":[\(unlistedJSON.joined(separator: ","))],\
            "deleted_after_list_requests":{\(deletionsJSON.joined(separator: ","))}}
            """
        let path = directory.appendingPathComponent("state.json")
        let temporary = directory.appendingPathComponent("state.json.tmp")
        try Data(state.utf8).write(to: temporary)
        // rename(2): the server reads either the old state or the new one, never half of one.
        guard rename(temporary.path, path.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    /// The requests served so far, in order: path, query and status.
    func requests() throws -> [(path: String, query: String, status: Int)] {
        let log = directory.appendingPathComponent("requests.jsonl")
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return (object["path"] as? String ?? "", object["query"] as? String ?? "", object["status"] as? Int ?? 0)
        }
    }
}
