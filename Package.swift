// swift-tools-version:6.0
import PackageDescription

// The hot binary's modules use no Swift Concurrency, so they do not import it implicitly either: then
// the linker leaves the Concurrency runtime and libdispatch out of clerk-webhook, and each exec
// skips their start-up and ~5,700 relocations (one invocation that needs no database, perf stat
// over 3 x 300 runs: 1.78 -> 1.68 ms, 322 -> 289 page faults; 16.5 -> 15.3 MB on disk).
let noConcurrency: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-disable-implicit-concurrency-module-import"])
]

let package = Package(
    name: "clerk-webhook",
    products: [
        .executable(name: "clerk-webhook", targets: ["clerk-webhook"]),
        .executable(name: "clerk-sync", targets: ["clerk-sync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // One thin system-library target per C library from Debian.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // The pipeline's logic: pure Swift, no C, no Foundation.
        .target(name: "ClerkWebhookCore", swiftSettings: noConcurrency),

        // Thin wrappers over the C libraries that plug into the core.
        .target(
            name: "ClerkWebhookSystem",
            dependencies: ["ClerkWebhookCore", "CFastCGI", "CLibPQ", "COpenSSL"],
            swiftSettings: noConcurrency
        ),

        // The hot, per-request binary: kept small and quick to start.
        .executableTarget(
            name: "clerk-webhook",
            dependencies: ["ClerkWebhookCore", "ClerkWebhookSystem"],
            swiftSettings: noConcurrency
        ),

        // Operator tooling: signing fixtures, migrations and the rest.
        .executableTarget(
            name: "clerk-sync",
            dependencies: [
                "ClerkWebhookCore",
                "ClerkWebhookSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // libFuzzer target over reading, verification and decoding; built only by Tests/Fuzz/run.sh.
        .executableTarget(
            name: "clerk-webhook-fuzz",
            dependencies: ["ClerkWebhookCore", "ClerkWebhookSystem"]
        ),

        .testTarget(
            name: "ClerkWebhookCoreTests",
            dependencies: ["ClerkWebhookCore", "ClerkWebhookSystem"]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["ClerkWebhookCore", "ClerkWebhookSystem"]
        ),
    ]
)
