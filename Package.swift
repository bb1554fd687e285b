// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Tansiq",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tansiq", targets: ["tansiq"]),
        .executable(name: "tansiq-controller", targets: ["tansiq-controller"]),
        .library(name: "TansiqModel", targets: ["TansiqModel"]),
        .library(name: "TansiqManifest", targets: ["TansiqManifest"]),
        .library(name: "TansiqScheduler", targets: ["TansiqScheduler"]),
        .library(name: "TansiqStore", targets: ["TansiqStore"]),
        .library(name: "TansiqController", targets: ["TansiqController"]),
        .executable(name: "tansiq-bench", targets: ["tansiq-bench"]),
        .executable(name: "tansiq-bench-api", targets: ["tansiq-bench-api"]),
        .executable(name: "tansiq-demo-service", targets: ["tansiq-demo-service"]),
        .executable(name: "tansiq-agent", targets: ["tansiq-agent"]),
        .executable(name: "tansiq-gateway", targets: ["tansiq-gateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
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
        // The durable store: a protocol, its SQLite (GRDB) and PostgreSQL (postgres-nio) backends.
        .target(
            name: "TansiqStore",
            dependencies: [
                "TansiqModel", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The dashboard's HTML, CSS and JavaScript, compiled in (served by the controller at /ui/).
        .target(name: "TansiqUI", resources: [.embedInCode("UI")]),
        // The controller: HTTPS routes (thin), authentication, PKI, the cluster state.
        .target(
            name: "TansiqController",
            dependencies: [
                "TansiqModel", "TansiqAPI", "TansiqManifest", "TansiqScheduler", "TansiqStore", "TansiqRegistry",
                "TansiqUI", "CMalloc",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Benchmarks that need no server stack: `tansiq-bench schedule`.
        .executableTarget(
            name: "tansiq-bench",
            dependencies: [
                "TansiqModel", "TansiqScheduler",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmarks over real HTTPS against a real controller (`tansiq-bench api ...` runs this
        // binary), kept apart so the scheduler benchmark's release build stays light; `registry` times
        // the controller's in-memory work in this process.
        .executableTarget(
            name: "tansiq-bench-api",
            dependencies: [
                "TansiqTestSupport", "TansiqAPI", "TansiqModel", "TansiqScheduler", "TansiqController",
                "TansiqManifest", "TansiqStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Fuzz targets of the decoders (libFuzzer when built by scripts/fuzz-decoders.sh; plainly
        // built, it replays the kept corpus in Fuzz/corpus).
        .executableTarget(
            name: "tansiq-fuzz",
            dependencies: ["TansiqWire", "TansiqManifest", "TansiqModel"]
        ),
        // Every request and answer of the HTTP API and the agent protocol: values only, Foundation
        // and the model, so that what decodes them (the fuzz targets) builds without a network stack.
        .target(name: "TansiqWire", dependencies: ["TansiqModel"]),
        // The typed client the CLI, the agent, the gateway and the tests share (with the wire types).
        .target(
            name: "TansiqAPI",
            dependencies: [
                "TansiqModel", "TansiqWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // What the controller and the agent need of glibc's allocator beyond Glibc: malloc_trim.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        // What the agent needs of the system beyond Glibc: zlib (image layers) and prctl.
        .systemLibrary(name: "CAgentSystem", path: "Sources/CAgentSystem", providers: [.apt(["zlib1g-dev"])]),
        // The OCI distribution client: tags resolved to digests, manifests and blobs verified.
        .target(
            name: "TansiqRegistry",
            dependencies: [
                "TansiqModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The node agent: runs instances in runc containers. Model, registry client, HTTP and TLS.
        .target(
            name: "TansiqAgent",
            dependencies: [
                "TansiqModel", "TansiqAPI", "TansiqRegistry", "CAgentSystem", "CMalloc",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "tansiq-agent",
            dependencies: [
                "TansiqAgent", "TansiqAPI", "TansiqModel", "TansiqCommand",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The gateway: the endpoints long poll rendered into a real nginx's configuration.
        .target(
            name: "TansiqGateway",
            dependencies: [
                "TansiqAPI", "TansiqModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "tansiq-gateway",
            dependencies: [
                "TansiqGateway", "TansiqAPI", "TansiqModel", "TansiqCommand",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The workload of the example manifests and the end-to-end tests.
        .executableTarget(
            name: "tansiq-demo-service",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // What every command-line binary shares: DESIGN.md's exit codes.
        .target(
            name: "TansiqCommand",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The CLI: @main and wiring; one file per verb.
        .executableTarget(
            name: "tansiq",
            dependencies: [
                "TansiqModel", "TansiqAPI", "TansiqManifest", "TansiqCommand",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The controller binary: @main and wiring only.
        .executableTarget(
            name: "tansiq-controller",
            dependencies: [
                "TansiqController", "TansiqAPI", "TansiqCommand", "TansiqModel", "TansiqRegistry", "TansiqStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TansiqModelTests", dependencies: ["TansiqModel", "TansiqWire"]),
        // The agent's pure lifecycle, its layer unpacker and its runtime, on real files and runc.
        .testTarget(
            name: "TansiqAgentTests",
            dependencies: [
                "TansiqAgent", "TansiqAPI", "TansiqModel", "TansiqRegistry", "TansiqTestSupport", "tansiq-controller",
            ]
        ),
        .testTarget(name: "TansiqSchedulerTests", dependencies: ["TansiqScheduler", "TansiqModel"]),
        .testTarget(
            name: "TansiqManifestTests", dependencies: ["TansiqManifest", "TansiqModel"], exclude: ["Fixtures"]),
        // The store conformance suite, run against every backend.
        .testTarget(
            name: "TansiqStoreTests",
            dependencies: [
                "TansiqStore", "TansiqModel", "TansiqScheduler", "TansiqTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // In-process route tests and end-to-end tests that start the real `tansiq-controller`.
        .testTarget(
            name: "TansiqControllerTests",
            dependencies: [
                "TansiqController", "TansiqAPI", "TansiqStore", "TansiqModel", "TansiqManifest", "TansiqRegistry",
                "tansiq-controller",
                "tansiq-agent",
                "tansiq-demo-service",
                "tansiq-gateway",
                "TansiqGateway",
                "TansiqTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        // Drives the built `tansiq` binary: exit codes, stdout and stderr, help texts.
        .testTarget(
            name: "TansiqCLITests",
            dependencies: [
                "tansiq", "tansiq-controller", "tansiq-agent", "tansiq-demo-service", "tansiq-fuzz", "tansiq-gateway",
                "TansiqTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Golden"]
        ),
        // What the end-to-end tests share: running built binaries, a live controller, HTTPS calls.
        .target(
            name: "TansiqTestSupport",
            dependencies: [
                "TansiqCommand", "TansiqAPI", "TansiqModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Tests/Support"
        ),
    ],
    swiftLanguageModes: [.v6]
)
