import Foundation

/// A real OCI registry (Debian's `docker-registry`, CNCF distribution) on a loopback port, with
/// its storage in a temporary directory, and the repo's image script to push to it.
public final class LiveRegistry: @unchecked Sendable {
    /// `127.0.0.1:PORT`.
    public private(set) var host: String
    /// Where it stores blobs and manifests.
    public let storage: String
    private let config: String
    private let log: String
    private var process: Process?

    /// Starts a registry on a free port.
    public init() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        storage = dir.appendingPathComponent("data").path
        config = dir.appendingPathComponent("config.yml").path
        log = dir.appendingPathComponent("registry.log").path
        host = ""
        // A port found free can be taken by another socket before the registry binds it (the
        // suite opens many connections at once): then the registry exits and a new port is tried.
        var failure: Error?
        for _ in 0..<3 {
            host = "127.0.0.1:\(try Self.freePort())"
            try """
            version: 0.1
            log: {level: warn}
            storage:
              filesystem: {rootdirectory: \(storage)}
              delete: {enabled: true}
            http: {addr: \(host)}
            """.write(toFile: config, atomically: true, encoding: .utf8)
            do {
                try await start()
                return
            } catch {
                failure = error
                stop()
            }
        }
        throw failure ?? LiveError.failed("the registry did not start")
    }

    /// Starts (or restarts) the registry on its port and waits until it answers.
    public func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: HostFacts.registry ?? "/usr/bin/docker-registry")
        process.arguments = ["serve", config]
        FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try? output.close()
        self.process = process
        // Generous: the whole suite starts at once on two cores.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning {
            if (try? await runProcess(
                URL(fileURLWithPath: "/usr/bin/curl"), ["-sf", "--max-time", "5", "http://\(host)/v2/"]))?.status == 0
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let said = (try? String(contentsOfFile: log, encoding: .utf8))?.suffix(600) ?? ""
        throw LiveError.failed(
            "the registry \(process.isRunning ? "did not answer" : "exited") on \(host): \(said)")
    }

    /// Stops the registry (its storage stays).
    public func stop() {
        guard let process else { return }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
    }

    /// Builds the demo service into an image and pushes it as `REPO:TAG`; `env` entries make
    /// an image with other bytes. Returns the manifest digest.
    public func pushDemo(_ repository: String, tag: String, env: [String] = []) async throws -> String {
        let result = try await runProcess(
            packageRoot.appendingPathComponent("scripts/build-demo-image.sh"),
            ["--binary", productsDirectory.appendingPathComponent("tansiq-demo-service").path, "--insecure"]
                + env.flatMap { ["--env", $0] } + ["\(host)/\(repository):\(tag)"], timeout: 120)
        guard result.status == 0, let digest = result.stdout.split(separator: "\n").last.map(String.init),
            digest.hasPrefix("sha256:")
        else { throw LiveError.failed("pushing \(repository):\(tag): \(result.stderr)") }
        return digest
    }

    /// The stored file of blob `digest`.
    public func blobFile(_ digest: String) -> String {
        let hex = digest.dropFirst("sha256:".count)
        return storage + "/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }

    /// The digests of the layers of manifest `digest` in `repository`.
    public func layers(of digest: String) throws -> [String] {
        struct Manifest: Decodable {
            struct Layer: Decodable { var digest: String }
            var layers: [Layer]
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: blobFile(digest)))
        return try JSONDecoder().decode(Manifest.self, from: data).layers.map(\.digest)
    }

    /// Stops the registry and removes its storage.
    public func shutdown() {
        stop()
        try? FileManager.default.removeItem(atPath: (storage as NSString).deletingLastPathComponent)
    }

    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw LiveError.failed("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
