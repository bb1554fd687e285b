// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Tansiq",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tansiq", targets: ["tansiq"]),
        .library(name: "TansiqModel", targets: ["TansiqModel"]),
        .library(name: "TansiqManifest", targets: ["TansiqManifest"]),
        .library(name: "TansiqScheduler", targets: ["TansiqScheduler"]),
        .executable(name: "tansiq-bench", targets: ["tansiq-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Pure values: quantities, resources, kinds and their status. Foundation only.
        .target(name: "TansiqModel"),
        // YAML → model, with FILE:LINE:COLUMN diagnostics.
        .target(
            name: "TansiqManifest",
            dependencies: ["TansiqModel", .product(name: "Yams", package: "Yams")]
        ),
        // Pure scheduling and quota engine: snapshot in, plan out. No I/O, clock or globals.
        .target(name: "TansiqScheduler", dependencies: ["TansiqModel"], exclude: ["README.md"]),
        // Benchmarks that need no server stack: `tansiq-bench schedule`.
        .executableTarget(
            name: "tansiq-bench",
            dependencies: [
                "TansiqModel", "TansiqScheduler",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The CLI: @main and wiring; one file per verb.
        .executableTarget(
            name: "tansiq",
            dependencies: [
                "TansiqModel", "TansiqManifest",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TansiqModelTests", dependencies: ["TansiqModel"]),
        .testTarget(name: "TansiqSchedulerTests", dependencies: ["TansiqScheduler", "TansiqModel"]),
        .testTarget(
            name: "TansiqManifestTests", dependencies: ["TansiqManifest", "TansiqModel"], exclude: ["Fixtures"]),
        // Drives the built `tansiq` binary: exit codes, stdout and stderr, help texts.
        .testTarget(name: "TansiqCLITests", dependencies: ["tansiq"]),
    ],
    swiftLanguageModes: [.v6]
)
