// swift-tools-version:6.0
import PackageDescription

// Convoy has no package dependencies by design: everything below builds from the toolchain alone
// (Foundation, FoundationNetworking, Dispatch, Synchronization, Swift Testing).
let package = Package(
    name: "Convoy",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "convoy", targets: ["convoy"]),
        .library(name: "Convoy", targets: ["Convoy"]),
        .library(name: "ConvoyMock", targets: ["ConvoyMock"]),
    ],
    targets: [
        // Core: rate limiter, fetch engine, NDJSON output, id input. No I/O policy, no CLI.
        .target(name: "Convoy"),
        // Test support: the loopback mock Genesys API and a manual clock.
        .target(name: "ConvoyMock"),
        // Load testing any rate-limited HTTP API: schedules, the histogram, the limiter inference.
        // Generic: it uses the core's transport and header parsing, never a Genesys type.
        .target(name: "ConvoyLoad", dependencies: ["Convoy"]),
        // Command-line front end as a library, so argument parsing and commands are testable in-process.
        .target(name: "ConvoyCLI", dependencies: ["Convoy", "ConvoyLoad", "ConvoyMock"]),
        // The thin executable.
        .executableTarget(name: "convoy", dependencies: ["ConvoyCLI"]),
        .executableTarget(
            name: "ConvoyBenchmarks",
            dependencies: ["Convoy", "ConvoyCLI", "ConvoyLoad", "ConvoyMock"],
            path: "Benchmarks/ConvoyBenchmarks"
        ),
        .testTarget(name: "ConvoyTests", dependencies: ["Convoy", "ConvoyMock"]),
        .testTarget(name: "ConvoyMockTests", dependencies: ["ConvoyMock"]),
        .testTarget(name: "ConvoyLoadTests", dependencies: ["ConvoyLoad", "Convoy", "ConvoyMock"]),
        .testTarget(name: "ConvoyCLITests", dependencies: ["ConvoyCLI", "Convoy", "ConvoyLoad", "ConvoyMock"]),
    ],
    swiftLanguageModes: [.v6]
)
