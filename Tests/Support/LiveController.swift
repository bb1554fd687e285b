import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import TansiqAPI
import TansiqModel

/// A real `tansiq-controller` process: `init` in a fresh data directory, then `run` on a free
/// loopback port. Every wait is bounded.
public final class LiveController: @unchecked Sendable {
    /// The data directory.
    public let dataDir: String
    /// `https://127.0.0.1:PORT`.
    public private(set) var baseURL = ""
    /// The operator token `init` wrote.
    public let operatorToken: String
    /// The process while it runs.
    private var process: Process?
    private var stdoutURL: URL
    private var stderrURL: URL
    /// A plain HTTP client, for what instances serve.
    public let client: HTTPClient

    /// Extra arguments of `run`.
    public let arguments: [String]

    /// Initialises a cluster in a new temporary directory and starts the controller on it, with
    /// `arguments` added to `run`'s.
    public init(arguments: [String] = []) async throws {
        self.arguments = arguments
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-live-\(UUID().uuidString)")
        dataDir = dir.path
        stdoutURL = dir.appendingPathExtension("stdout")
        stderrURL = dir.appendingPathExtension("stderr")
        let initRun = try await run("tansiq-controller", ["init", "--data-dir", dataDir])
        guard initRun.status == 0 else { throw LiveError.failed("init: \(initRun.stderr)") }
        operatorToken = try String(contentsOfFile: dataDir + "/operator.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await start()
        api = try TansiqClient(server: baseURL, trust: .caFile(dataDir + "/ca.crt"))
    }

    /// A controller over a data directory made already (`init` run elsewhere), listening on
    /// `port` and advertising it, with `arguments` added to `run`'s: one of several controllers
    /// that share a PostgreSQL store.
    public init(existing dataDir: String, port: Int, arguments: [String]) async throws {
        self.dataDir = dataDir
        self.arguments = arguments + ["--advertise", "https://127.0.0.1:\(port)"]
        stdoutURL = URL(fileURLWithPath: dataDir).appendingPathExtension("stdout")
        stderrURL = URL(fileURLWithPath: dataDir).appendingPathExtension("stderr")
        operatorToken = try String(contentsOfFile: dataDir + "/operator.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        client = HTTPClient(eventLoopGroupProvider: .singleton)
        baseURL = "https://127.0.0.1:\(port)"
        try await start()
        api = try TansiqClient(server: baseURL, trust: .caFile(dataDir + "/ca.crt"))
    }

    /// `count` controllers sharing the PostgreSQL database `store`: `init --store` once, then a
    /// copy of its data directory for each, each on its own loopback port, started in order (the
    /// first takes the lead).
    public static func cluster(count: Int, store: String, arguments: [String] = []) async throws -> [LiveController] {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-ha-\(UUID().uuidString)").path
        let first = base + "-0"
        let made = try await run("tansiq-controller", ["init", "--data-dir", first, "--store", store])
        guard made.status == 0 else { throw LiveError.failed("init --store: \(made.stderr)") }
        var controllers: [LiveController] = []
        for index in 0..<count {
            let dir = base + "-\(index)"
            if index > 0 { try FileManager.default.copyItem(atPath: first, toPath: dir) }
            controllers.append(
                try await LiveController(
                    existing: dir, port: try LiveRegistry.freePort(), arguments: ["--store", store] + arguments))
        }
        return controllers
    }

    /// What `GET /readyz` says: role (`leader` or `follower`), the leader's URL and the epoch;
    /// nil when it does not answer 200.
    public func readiness() async -> (role: String, leader: String, epoch: Int)? {
        guard let reply = try? await call(.GET, "/readyz", token: nil, timeout: 3), reply.status == 200,
            let json = reply.json as? [String: Any], let role = json["role"] as? String
        else { return nil }
        return (role, json["leader"] as? String ?? "", json["epoch"] as? Int ?? 0)
    }

    /// Runs `body` with a new live controller, and always shuts it down after.
    public static func with(
        arguments: [String] = [], _ body: (LiveController) async throws -> Void
    ) async throws {
        let live = try await LiveController(arguments: arguments)
        do {
            try await body(live)
        } catch {
            await live.shutdown()
            throw error
        }
        await live.shutdown()
    }

    /// Starts (or restarts) the controller and waits until it listens: first on a free port,
    /// then again on the same one, so nodes find it where they left it.
    public func start(timeout: TimeInterval = 30) async throws {
        let listen = baseURL.isEmpty ? "127.0.0.1:0" : String(baseURL.dropFirst("https://".count))
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("tansiq-controller")
        process.arguments =
            ["run", "--data-dir", dataDir, "--listen", listen, "--log-level", "warning"] + arguments
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let out = (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? ""
            if let line = out.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                baseURL = String(line.dropFirst("listening on ".count))
                return
            }
            if !process.isRunning { throw LiveError.failed("controller exited: \(stderr)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw LiveError.failed("controller did not listen within \(timeout) s: \(stderr)")
    }

    /// A node of this controller.
    public func node(_ name: String) -> SimulatedNode {
        SimulatedNode(name: name, baseURL: baseURL, caPath: dataDir + "/ca.crt")
    }

    /// The bootstrap token `init` wrote.
    public var bootstrapToken: String {
        ((try? String(contentsOfFile: dataDir + "/bootstrap.token", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The controller's process id while it runs.
    public var pid: Int32? { process?.processIdentifier }

    /// What the controller wrote to stderr.
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits (bounded) for the process to end; returns its exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: TimeInterval = 20) async throws -> Int32 {
        guard let process else { return 0 }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw LiveError.failed("controller did not stop within \(timeout) s")
        }
        self.process = nil
        return process.terminationStatus
    }

    /// Stops the controller and the client, and removes the data directory.
    public func shutdown() async {
        _ = try? await stop(signal: SIGKILL)
        try? await client.shutdown()
        await api?.shutdown()
        try? FileManager.default.removeItem(atPath: dataDir)
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }

    /// The API client of this controller (trusting the cluster CA; tokens are given per call).
    public private(set) var api: TansiqClient?

    /// A typed API client calling as `token`; shut it down after.
    public func client(token: String) throws -> TansiqClient {
        try TansiqClient(server: baseURL, trust: .caFile(dataDir + "/ca.crt"), token: token)
    }

    /// One call as the operator, its answer decoded (an error answer throws `ClientError`).
    public func typed<Answer: Decodable>(_ method: HTTPMethod, _ path: String, as: Answer.Type) async throws -> Answer {
        let reply = try await call(method, path, token: operatorToken)
        try TansiqClient.check(RawResponse(status: reply.status, headers: [], body: Data(reply.body.utf8)))
        return try WireJSON.decoder().decode(Answer.self, from: Data(reply.body.utf8))
    }

    /// One HTTPS call through the API client: status and body.
    public func call(
        _ method: HTTPMethod, _ path: String, token: String?, body: String? = nil,
        contentType: String = "application/json", timeout: Int64 = 30
    ) async throws -> Reply {
        guard let api else { throw LiveError.failed("the controller has not started") }
        let response = try await api.send(
            method, path, body: body.map { Data($0.utf8) }, contentType: contentType,
            headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [], timeout: .seconds(timeout))
        return Reply(status: response.status, body: response.text)
    }
}

/// A status and a body.
public struct Reply: Sendable {
    public var status: Int
    public var body: String

    /// Creates a reply.
    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }

    /// The body as JSON.
    public var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }

    /// `error.code` of an error envelope.
    public var errorCode: String? { ((json as? [String: Any])?["error"] as? [String: Any])?["code"] as? String }

    /// `items` of a list.
    public var items: [[String: Any]] { (json as? [String: Any])?["items"] as? [[String: Any]] ?? [] }
}

/// A live test's failure.
public enum LiveError: Error, CustomStringConvertible {
    case failed(String)
    public var description: String {
        switch self {
        case .failed(let m): m
        }
    }
}
