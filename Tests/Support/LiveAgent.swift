import Crypto
import Foundation
import SwiftASN1
import TansiqCommand
import X509

/// A real `tansiq-agent` process joined to a `LiveController`.
public final class LiveAgent: @unchecked Sendable {
    /// The node's name.
    public let name: String
    /// The agent's data directory.
    public let dataDir: String
    private var process: Process?
    private let log: URL
    /// The binary run: this build's `tansiq-agent` unless told otherwise.
    public let executable: URL

    /// What the host runtime must show instances that run this build's binaries: the products
    /// directory and the Swift runtime's libraries.
    public static let hostPaths: [String] = {
        let demo = productsDirectory.appendingPathComponent("tansiq-demo-service").path
        return [productsDirectory.path] + HostLibraries.directories(of: demo)
    }()

    /// Joins `live` as `name` in `zone`, with a declared share of the host and its own ports;
    /// `extra` join flags are added. Tests give each agent a range of its own from 21000 to
    /// 22999: below the kernel's ephemeral ports (32768 up, where clients' ports come from) and
    /// apart from `tansiq dev up`'s agents (31000 to 32499), whose test runs at the same time.
    public init(
        _ live: LiveController, name: String, zone: String, ports: ClosedRange<Int>, statusInterval: Double = 1,
        extra: [String] = [], servers: [String]? = nil, executable: URL? = nil
    ) async throws {
        self.name = name
        self.executable = executable ?? productsDirectory.appendingPathComponent("tansiq-agent")
        dataDir = live.dataDir + "-agent-\(name)"
        log = URL(fileURLWithPath: dataDir + ".log")
        let joined = try await runProcess(
            self.executable,
            [
                "join", "--token", live.bootstrapToken, "--ca-hash", try live.caHash(),
                "--name", name, "--data-dir", dataDir, "--label", "zone=\(zone)",
                "--capacity", "cpu=2,memory=2Gi,storage=10Gi,instances=20",
                "--port-range", "\(ports.lowerBound)-\(ports.upperBound)", "--status-interval", String(statusInterval),
                "--listen", "127.0.0.1:0",
            ] + (servers ?? [live.baseURL]).flatMap { ["--server", $0] }
                + Self.hostPaths.flatMap { ["--host-path", $0] }
                + extra)
        guard joined.status == 0 else { throw LiveError.failed("join \(name): \(joined.stderr)") }
        try start()
    }

    /// Starts (or restarts) `tansiq-agent run`.
    public func start() throws {
        if !FileManager.default.fileExists(atPath: log.path) {
            FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        let process = Process()
        process.executableURL = executable
        // Without runc (a development machine), instances run unisolated; the isolation tests
        // are disabled there.
        process.arguments =
            ["run", "--data-dir", dataDir, "--log-level", "info"] + (HostFacts.hasRunc ? [] : ["--allow-unisolated"])
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
    }

    /// The agent's pid while it runs.
    public var pid: Int32? { process?.processIdentifier }

    /// What the agent logged.
    public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Sends `signal` to the agent and waits (bounded) for it to end.
    public func stop(signal: Int32 = SIGKILL) async {
        guard let process else { return }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        self.process = nil
    }

    /// The pids of the instances the agent's state file records as running, by instance id.
    public var instancePids: [String: Int32] {
        struct Saved: Decodable {
            struct Process: Decodable { var pid: Int32 }
            var process: Process?
        }
        guard let data = FileManager.default.contents(atPath: dataDir + "/state.json"),
            let state = try? JSONDecoder().decode([String: Saved].self, from: data)
        else { return [:] }
        return state.compactMapValues { $0.process?.pid }
    }

    /// The runc containers of this agent (`runc list`), by id, with their status.
    public func containers() async -> [String: String] {
        struct Container: Decodable {
            var id: String
            var status: String
        }
        guard
            let listed = try? await runProcess(
                URL(fileURLWithPath: "/usr/sbin/runc"), ["--root", dataDir + "/runc", "list", "--format", "json"]),
            let containers = try? JSONDecoder().decode([Container]?.self, from: Data(listed.stdout.utf8))
        else { return [:] }
        return Dictionary((containers ?? []).map { ($0.id, $0.status) }, uniquingKeysWith: { a, _ in a })
    }

    /// Stops the agent and every instance it started, and removes its directory.
    public func shutdown() async {
        await stop()
        for id in await containers().keys {
            _ = try? await runProcess(
                URL(fileURLWithPath: "/usr/sbin/runc"), ["--root", dataDir + "/runc", "delete", "--force", id])
        }
        for pid in instancePids.values where pid > 1 { kill(pid, SIGKILL) }
        // The tmpfs of instances' secrets the killed agent had no time to clear.
        let mounts = procText("/proc/mounts")
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 1, fields[1].hasPrefix(dataDir + "/") {
                _ = try? await runProcess(URL(fileURLWithPath: "/bin/umount"), ["-l", String(fields[1])])
            }
        }
        try? FileManager.default.removeItem(atPath: dataDir)
        try? FileManager.default.removeItem(at: log)
    }
}

extension LiveController {
    /// The CA hash `init` printed.
    public func caHash() throws -> String {
        let certificate = try Certificate(pemEncoded: try String(contentsOfFile: dataDir + "/ca.crt", encoding: .utf8))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate.publicKey)
        return "sha256:" + SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02x", $0) }.joined()
    }
}
