import ArgumentParser
import Foundation
import TansiqAPI
import TansiqCommand
import TansiqModel

/// The processes of `tansiq dev up`: a controller and its agents, children of this process,
/// with their logs in the data directory.
final class LocalCluster: @unchecked Sendable {
    let dataDir: String
    let port: Int
    let agentCount: Int
    let binaries: URL
    /// runc, where it is installed: the agents then run instances isolated.
    let runc: String?
    private var controller: Process?
    private var agents: [Process] = []
    private var server: String { "https://127.0.0.1:\(port)" }
    private var controllerDir: String { dataDir + "/controller" }
    private func agentDir(_ index: Int) -> String { dataDir + "/agent-\(index)" }

    init(dataDir: String, port: Int, agents: Int) throws {
        self.dataDir = dataDir
        self.port = port
        self.agentCount = agents
        // Beside this executable however it was started (by its name from PATH, or by a path).
        binaries = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        runc = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        for binary in ["tansiq-controller", "tansiq-agent", "tansiq-demo-service"]
        where !FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent(binary).path) {
            throw CLIError.failed(
                "\(binary) is not built beside \(binaries.path)/tansiq: run `swift build` (it builds the controller, "
                    + "the agent and the demo service; `swift run tansiq` alone does not)")
        }
    }

    /// Runs a binary to completion; its output.
    private func runToEnd(
        _ binary: String, _ arguments: [String], absolute: Bool = false
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL =
            absolute ? URL(fileURLWithPath: binary) : binaries.appendingPathComponent(binary)
        process.arguments = arguments
        let log = dataDir + "/\((binary as NSString).lastPathComponent)-\(arguments.first ?? "run").txt"
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Starts a long-running binary with its output in `log`.
    private func spawn(_ binary: String, _ arguments: [String], log: String, path: Bool = false) throws -> Process {
        let process = Process()
        process.executableURL = binaries.appendingPathComponent(binary)
        process.arguments = arguments
        if path {
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = binaries.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
            process.environment = environment
        }
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    func start() async throws {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: controllerDir + "/tansiq.db") {
            let initRun = try runToEnd(
                "tansiq-controller", ["init", "--data-dir", controllerDir, "--port", String(port)])
            guard initRun.status == 0 else { throw CLIError.failed("controller init failed: \(initRun.output)") }
            Output.line("created a cluster in \(controllerDir)")
        }
        let log = dataDir + "/controller.log"
        controller = try spawn(
            "tansiq-controller",
            ["run", "--data-dir", controllerDir, "--listen", "127.0.0.1:\(port)", "--grace-period", "10s"], log: log)
        let deadline = Date().addingTimeInterval(30)
        while !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("listening on") {
            if controller?.isRunning != true || Date() > deadline {
                throw CLIError.failed("the controller did not start; see \(log)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Output.line("controller listening on \(server) (log: \(log))")
        try saveContext()
        let client = try connection.client()
        defer { Task { await client.shutdown() } }
        for index in 0..<agentCount {
            let zone = "zone-" + String(UnicodeScalar(UInt8(97 + index)))
            let dir = agentDir(index)
            if !FileManager.default.fileExists(atPath: dir + "/agent.json") {
                let token = try await client.issueToken(TokenRequest(ttl: "1h"), bootstrap: true).token
                let joined = try runToEnd(
                    "tansiq-agent",
                    [
                        "join", "--server", server, "--token", token, "--ca-hash", try caHash(), "--name",
                        "dev-agent-\(index)", "--data-dir", dir, "--label", "datacentre=dc-damascus-1", "--label",
                        "zone=\(zone)", "--capacity", "cpu=2,memory=4Gi,storage=20Gi,instances=30", "--port-range",
                        "\(31000 + index * 500)-\(31499 + index * 500)", "--status-interval", "2",
                    ])
                guard joined.status == 0 else {
                    throw CLIError.failed("agent \(index) could not join: \(joined.output)")
                }
            }
            agents.append(
                try spawn(
                    // Several agents on one machine: each serves its logs on a port of its own.
                    "tansiq-agent",
                    ["run", "--data-dir", dir, "--address", "127.0.0.1", "--listen", "127.0.0.1:0"] + runtimeFlags,
                    log: dataDir + "/agent-\(index).log",
                    path: true))
        }
        Output.line("\(agentCount) agents running (logs: \(dataDir)/agent-N.log)")
        if runc == nil {
            Output.line("runc is not installed: the agents run instances unisolated (--allow-unisolated)")
        }
    }

    var connection: Connection {
        Connection(
            servers: [server], ca: controllerDir + "/ca.crt",
            token: (try? String(contentsOfFile: controllerDir + "/operator.token", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The CA hash `init` printed.
    private func caHash() throws -> String {
        let output = (try? String(contentsOfFile: dataDir + "/tansiq-controller-init.txt", encoding: .utf8)) ?? ""
        guard let range = output.range(of: #"sha256:[0-9a-f]{64}"#, options: .regularExpression) else {
            throw CLIError.failed("cannot find the CA hash in \(dataDir)/tansiq-controller-init.txt")
        }
        return String(output[range])
    }

    /// Writes the CLI context `dev` and makes it current.
    private func saveContext() throws {
        var config = try CLIConfig.load()
        config.set(
            CLIConfig.Context(name: "dev", servers: [server], ca: connection.ca, token: connection.token), use: true)
        try config.save()
        Output.line("CLI context `dev` written to \(CLIConfig.path): try `tansiq get instances`")
    }

    func applyAndWait(_ path: String, timeout: TimeInterval) async throws {
        let client = try connection.client()
        defer { Task { await client.shutdown() } }
        let manifests = try Apply.load([path], cluster: try await Apply.facts(client))
        let apps = try await Apply.apply(manifests, client: client, dryRun: false)
        do {
            try await Apply.waitReady(apps, client: client, until: Date().addingTimeInterval(timeout))
        } catch let error as CLIError {
            Output.error("warning: \(error)")
        }
        let instances = try await client.instances().items
        Output.line(
            Table.render([Instance.header(wide: true)] + instances.map { $0.row(wide: true, names: MinistryNames()) }),
            terminator: "")
        Output.line("API: \(server)  ·  `tansiq get nodes`, `tansiq get apps -A`  ·  Ctrl-C stops the cluster")
    }

    /// Prints a line whenever the cluster's summary changes, until SIGINT or SIGTERM.
    func watch() async throws {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (stop, continuation) = AsyncStream.makeStream(of: Void.self)
        let sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
        defer { for source in sources { source.cancel() } }
        let client = try connection.client()
        defer { Task { await client.shutdown() } }
        let stopped = Task { for await _ in stop { return } }
        var last = ""
        while !stopped.isCancelled {
            let summary = (try? await summary(client)) ?? "controller unreachable"
            if summary != last {
                let time = RFC3339.format(Date()).dropFirst(11).prefix(8)
                Output.line("\(time) \(summary)")
                last = summary
            }
            let tick = Task { try? await Task.sleep(for: .seconds(2)) }
            await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    await tick.value; return false
                }
                group.addTask {
                    await stopped.value; return true
                }
                if await group.next() == true { stopped.cancel() }
                group.cancelAll()
            }
        }
    }

    private func summary(_ client: TansiqClient) async throws -> String {
        let nodes = try await client.nodes().items
        let instances = try await client.instances().items
        var phases: [String: Int] = [:]
        for instance in instances { phases[instance.phase.rawValue, default: 0] += 1 }
        let ready = nodes.filter { $0.phase == .ready }.count
        return "nodes \(ready)/\(nodes.count) Ready · instances "
            + phases.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }

    /// How the agents run instances: isolated under runc, showing the example services what they
    /// need of this build (its directory and the Swift runtime's libraries); unisolated without runc.
    private var runtimeFlags: [String] {
        guard runc != nil else { return ["--allow-unisolated"] }
        let demo = binaries.appendingPathComponent("tansiq-demo-service").path
        return ([binaries.path] + HostLibraries.directories(of: demo)).flatMap { ["--host-path", $0] }
    }

    /// Stops the agents and every instance they started, then the controller. (A stopped agent
    /// leaves its instances running, as on a real node; the local cluster takes them down.)
    func stop() async {
        for agent in agents {
            if agent.isRunning { kill(agent.processIdentifier, SIGTERM) }
            agent.waitUntilExit()
        }
        for index in 0..<agents.count { stopInstances(of: agentDir(index), signal: SIGTERM) }
        try? await Task.sleep(for: .seconds(1))
        for index in 0..<agents.count { stopInstances(of: agentDir(index), signal: SIGKILL) }
        if let controller, controller.isRunning {
            kill(controller.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(20)
            while controller.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            if controller.isRunning { kill(controller.processIdentifier, SIGKILL) }
            controller.waitUntilExit()
        }
        Output.line("stopped; the cluster's data is in \(dataDir) (`tansiq dev up` again reuses it)")
    }

    /// Signals the instances an agent started: every container in its runc root (SIGKILL also
    /// removes them) — those its state file records and any it had created without recording yet —
    /// or, when they ran unisolated, the process groups its state file records.
    private func stopInstances(of dir: String, signal: Int32) {
        struct Saved: Decodable {
            struct Process: Decodable { var pid: Int32 }
            var process: Process?
        }
        let state =
            FileManager.default.contents(atPath: dir + "/state.json").flatMap {
                try? JSONDecoder().decode([String: Saved].self, from: $0)
            } ?? [:]
        if let runc {
            let root = ["--root", dir + "/runc"]
            let listed = (try? runToEnd(runc, root + ["list", "-q"], absolute: true))?.output ?? ""
            let ids = Set(state.keys).union(listed.split(separator: "\n").map(String.init).filter { !$0.isEmpty })
            for id in ids.sorted() {
                _ = try? runToEnd(
                    runc, root + ["kill", "--all", id, signal == SIGKILL ? "KILL" : "TERM"], absolute: true)
                if signal == SIGKILL { _ = try? runToEnd(runc, root + ["delete", "--force", id], absolute: true) }
            }
            return
        }
        for saved in state.values {
            guard let pid = saved.process?.pid, pid > 0 else { continue }
            kill(-pid, signal)
        }
    }
}
