import Foundation

/// Reads a payload from the repository's `fixtures/` folder (shared with `clerk-sync sign`).
func fixture(_ name: String) throws -> [UInt8] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return Array(try Data(contentsOf: root.appendingPathComponent("fixtures").appendingPathComponent(name)))
}
