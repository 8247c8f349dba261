/// A setting is missing or malformed. The message names the variable, never its value.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Settings that may come from a file named by `NAME_FILE` (Docker and systemd secrets), as
/// `ProcessEnvironment.variables()` hands them on: a file it read became `NAME` and its `NAME_FILE`
/// is gone; a `NAME_FILE` still there could not be read, or was set beside `NAME`.
public enum FileBackedSetting {
    /// Every setting that may come from a file. Only these: other `*_FILE` variables in the
    /// environment (`SSL_CERT_FILE`, ...) belong to other programs.
    public static let names = [
        "CLERK_WEBHOOK_SIGNING_SECRET", "CLERK_WEBHOOK_SECRET", "DATABASE_URL", "CLERK_SECRET_KEY",
    ]

    /// Why `name` cannot be used as configured, or `nil`. Names the file's path (a path, not a
    /// secret), never a value.
    static func problem(_ name: String, in environment: [String: String]) -> ConfigurationError? {
        guard let path = environment[name + "_FILE"] else { return nil }
        if environment[name] != nil {
            return ConfigurationError("\(name) and \(name)_FILE are both set: set only one of them")
        }
        return ConfigurationError(
            "\(name)_FILE names \(path), which cannot be read by this process"
                + " (missing, not readable by its user, or not UTF-8 text)")
    }

    /// The first problem among `names`.
    public static func check(_ names: [String], in environment: [String: String]) throws(ConfigurationError) {
        for name in names {
            if let problem = problem(name, in: environment) { throw problem }
        }
    }
}
