import ClerkWebhookCore

#if canImport(Glibc)
    import Glibc
#endif

/// Process-level facts: environment, clocks and stderr.
public enum ProcessEnvironment {
    /// The process environment, with `FileBackedSetting.names` read from their files where set so
    /// (contents without trailing newlines). A `NAME_FILE` that was read is gone from the result;
    /// one that could not be read, or that is set beside `NAME`, stays there for the configuration
    /// to refuse (`FileBackedSetting.check`), so that a mistyped path is an error, not a silent
    /// fall-back to libpq's defaults or a missing secret. An empty `NAME_FILE` counts as unset.
    public static func variables() -> [String: String] {
        var variables: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            // Split at the first "=" on the C string's bytes: walking Characters (grapheme breaking)
            // through every variable was a visible share of a CGI invocation's start-up.
            if let equals = strchr(entry, Int32(UInt8(ascii: "="))) {
                let name = UnsafeRawBufferPointer(start: entry, count: entry.distance(to: equals))
                variables[String(decoding: name, as: UTF8.self)] = String(cString: equals + 1)
            }
            cursor += 1
        }
        for target in FileBackedSetting.names {
            let fileVariable = target + "_FILE"
            guard let path = variables[fileVariable] else { continue }
            guard !path.isEmpty else {
                variables[fileVariable] = nil
                continue
            }
            guard variables[target] == nil, var value = readFile(path) else { continue }
            while value.last == "\n" || value.last == "\r" { value.removeLast() }
            variables[target] = value
            variables[fileVariable] = nil
        }
        return variables
    }

    /// Reads a whole file as UTF-8, or `nil` when it cannot be read.
    public static func readFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            contents += buffer[0..<count]
        }
        return String(validating: contents, as: UTF8.self)
    }

    /// Wall-clock time in milliseconds since the Unix epoch.
    public static func unixMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// A monotonic reading in microseconds, for durations.
    public static func monotonicMicros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }

    /// Writes `text` fully to a file descriptor.
    public static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes {
                Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset)
            }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
        bytes.removeAll()
    }
}
