import Crypto
import Foundation
import SwiftASN1
import X509

/// A real `tansiq-agent` process joined to a `LiveController`.
public final class LiveAgent: @unchecked Sendable {
    /// The node's name.
    public let name: String
    /// The agent's data directory.
    public let dataDir: String
    private var process: Process?
    private let log: URL

    /// Joins `live` as `name` in `zone`, with a declared share of the host and its own ports.
    public init(
        _ live: LiveController, name: String, zone: String, ports: ClosedRange<Int>, statusInterval: Double = 1
    ) throws {
        self.name = name
        dataDir = live.dataDir + "-agent-\(name)"
        log = URL(fileURLWithPath: dataDir + ".log")
        let joined = try run(
            "tansiq-agent",
            [
                "join", "--server", live.baseURL, "--token", live.bootstrapToken, "--ca-hash", try live.caHash(),
                "--name", name, "--data-dir", dataDir, "--label", "zone=\(zone)",
                "--capacity", "cpu=2,memory=2Gi,storage=10Gi,instances=20",
                "--port-range", "\(ports.lowerBound)-\(ports.upperBound)", "--status-interval", String(statusInterval),
            ])
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
        process.executableURL = productsDirectory.appendingPathComponent("tansiq-agent")
        process.arguments = ["run", "--data-dir", dataDir, "--log-level", "info"]
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
    public func stop(signal: Int32 = SIGKILL) {
        guard let process else { return }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        self.process = nil
    }

    /// The pids of the instances the agent's state file records, by instance id.
    public var instancePids: [String: Int32] {
        guard let data = FileManager.default.contents(atPath: dataDir + "/state.json"),
            let state = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
        else { return [:] }
        return state.compactMapValues { ($0["pid"] as? Int).map(Int32.init) }.filter { $0.value > 0 }
    }

    /// Stops the agent and every instance it started, and removes its directory.
    public func shutdown() {
        stop()
        for pid in instancePids.values { kill(-pid, SIGKILL) }
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
