import Foundation

/// A real `tansiq-gateway` driving a real nginx on a loopback port, with a gateway token issued
/// by the live controller.
public final class LiveGateway: @unchecked Sendable {
    public let name: String
    public let configDir: String
    public let httpPort: Int
    public let log: URL
    private var process: Process?

    /// Issues a gateway token and starts `tansiq-gateway run` serving HTTP on `httpPort`.
    public init(_ live: LiveController, name: String, httpPort: Int, extra: [String] = []) async throws {
        self.name = name
        self.httpPort = httpPort
        configDir = live.dataDir + "-gateway-\(name)"
        log = URL(fileURLWithPath: configDir + ".log")
        let issued = try await live.call(
            .POST, "/v1/tokens", token: live.operatorToken, body: #"{"subject": "gw-\#(name)", "role": "gateway"}"#)
        guard let token = (issued.json as? [String: Any])?["token"] as? String else {
            throw LiveError.failed("no gateway token: \(issued.body)")
        }
        let tokenFile = configDir + ".token"
        FileManager.default.createFile(
            atPath: tokenFile, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("tansiq-gateway")
        process.arguments =
            [
                "run", "--server", live.baseURL, "--ca", live.dataDir + "/ca.crt", "--token-file", tokenFile,
                "--name", name, "--config-dir", configDir, "--http-port", String(httpPort),
            ] + extra
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
    }

    /// The nginx configuration it last applied.
    public var configuration: String {
        (try? String(contentsOfFile: configDir + "/nginx.conf", encoding: .utf8)) ?? ""
    }

    /// What it logged.
    public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// True while it runs.
    public var isRunning: Bool { process?.isRunning ?? false }

    /// Stops it (SIGTERM: it stops its nginx) and waits, bounded.
    public func shutdown() async {
        guard let process else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        // An nginx left behind by a killed gateway.
        if let pid = try? String(contentsOfFile: configDir + "/nginx.pid", encoding: .utf8),
            let number = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)), number > 1
        {
            kill(number, SIGKILL)
        }
        self.process = nil
    }
}
