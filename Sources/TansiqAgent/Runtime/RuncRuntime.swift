import CAgentSystem
import Foundation
import TansiqModel

/// Runs every instance in a runc container: one OCI bundle per instance (`bundles/ID`),
/// `runc run --detach`, so containers outlive the agent; the agent is the containers' child
/// subreaper, so it reaps them and reads their exit status. State of runc itself is kept
/// under the agent's data directory (`runc/`), apart from any other runc user on the node.
struct RuncRuntime: InstanceRuntime {
    let runc: String
    let stateRoot: String
    let bundles: String
    let settings: IsolationSettings
    let cgroups: Cgroups
    let cgroupParent: String

    var isolation: Isolation { .runc }

    /// A runtime for the agent of node `node` with data directory `directory`; `runc` is the
    /// binary's path. Makes the agent the child subreaper of what it starts.
    init(runc: String, directory: AgentDirectory, node: String, settings: IsolationSettings, cgroups: Cgroups) throws {
        self.runc = runc
        stateRoot = directory.file("runc")
        bundles = directory.file("bundles")
        self.settings = settings
        self.cgroups = cgroups
        cgroupParent = "tansiq-\(node)"
        for dir in [stateRoot, bundles] {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        // Containers whose runc has exited become the agent's children.
        guard tansiq_become_child_subreaper() == 0 else { throw AgentError.io("cannot become a child subreaper") }
    }

    private func bundle(_ id: String) -> String { bundles + "/" + id }

    private func runcCommand(_ arguments: [String], log: String? = nil) -> [String] {
        [runc, "--root", stateRoot] + (log.map { ["--log", $0] } ?? []) + arguments
    }

    func start(_ launch: Launch) async throws -> StartedProcess {
        guard let runAs = launch.runAs else {
            throw AgentError.invalid("the assignment gives no uid for the ministry (runAs): refused to run it isolated")
        }
        let dir = bundle(launch.id)
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try fm.createDirectory(atPath: launch.dataDirectory, withIntermediateDirectories: true)
        guard chown(launch.dataDirectory, uid_t(runAs.uid), gid_t(runAs.gid)) == 0,
            chmod(launch.dataDirectory, 0o700) == 0
        else { throw AgentError.io("cannot give \(launch.dataDirectory) to uid \(runAs.uid)") }
        let rootfs: String
        if let image = launch.rootfs {
            rootfs = image
        } else {
            // The host runtime's root: empty but for the links the node's merged /usr needs.
            rootfs = dir + "/rootfs"
            try fm.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
            for system in IsolationSettings.systemDirectories {
                if let target = try? fm.destinationOfSymbolicLink(atPath: system) {
                    try fm.createSymbolicLink(atPath: rootfs + system, withDestinationPath: target)
                }
            }
        }
        let config = OCIConfig(
            launch: launch, runAs: runAs, rootfs: rootfs, settings: settings, cgroupParent: cgroupParent)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AgentDirectory.writeAtomically(try encoder.encode(config), to: dir + "/config.json", mode: 0o600)
        _ = await Spawn.runQuietly(runcCommand(["delete", "--force", launch.id]))
        let pidFile = dir + "/pid"
        let runcLog = dir + "/runc.log"
        // Detached without a terminal, the container's stdout and stderr are runc's: the log.
        let pid = try Spawn.start(
            runcCommand(["run", "--detach", "--pid-file", pidFile, "--bundle", dir, launch.id], log: runcLog),
            environment: Spawn.baseEnvironment, output: .append(launch.log))
        let deadline = ContinuousClock.now + .seconds(30)
        var status: ExitStatus?
        while status == nil {
            status = try Spawn.poll(pid)
            if status == nil {
                if ContinuousClock.now > deadline {
                    kill(pid, SIGKILL)
                    throw AgentError.io("runc did not start the container within 30 s")
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        guard status?.code == 0,
            let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let containerPid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            let startTime = StartedProcess.startTime(of: containerPid)
        else {
            throw AgentError.io(
                "runc could not start it: \(Self.lastError(in: runcLog) ?? "exit \(status?.code ?? -1)")")
        }
        return StartedProcess(pid: containerPid, startTime: startTime)
    }

    /// The message of runc's last error line (`level=error msg="…"`).
    static func lastError(in log: String) -> String? {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return nil }
        guard let line = text.split(separator: "\n").last(where: { $0.contains("level=error") }) else { return nil }
        guard let start = line.range(of: "msg=\"") else { return String(line) }
        var message = String(line[start.upperBound...])
        if message.hasSuffix("\"") { message.removeLast() }
        return message.replacingOccurrences(of: "\\\"", with: "\"")
    }

    func exit(of id: String, _ process: StartedProcess) -> ExitReport? { process.exit(of: id, cgroups: cgroups) }

    func stop(_ id: String, _ process: StartedProcess, grace: Duration) async {
        guard process.isAlive else { return }
        _ = await Spawn.runQuietly(runcCommand(["kill", id, "TERM"]))
        await process.waitGone(for: grace)
        if process.isAlive { _ = await Spawn.runQuietly(runcCommand(["kill", "--all", id, "KILL"])) }
        await process.waitGone(for: .seconds(5))
    }

    func release(_ id: String) async {
        _ = await Spawn.runQuietly(runcCommand(["delete", "--force", id]))
        try? FileManager.default.removeItem(atPath: bundle(id))
    }

    func isRunning(_ id: String, _ process: StartedProcess) async -> Bool {
        guard let state = await state(of: id) else { return false }
        return state.status == "running" && state.pid == process.pid && process.isAlive
    }

    struct ContainerState: Decodable {
        var id: String
        var pid: Int32
        var status: String
    }

    /// `runc state ID`, or nil when runc knows no such container.
    func state(of id: String) async -> ContainerState? {
        guard let result = await Spawn.runQuietly(runcCommand(["state", id])), result.status.code == 0 else {
            return nil
        }
        return try? JSONDecoder().decode(ContainerState.self, from: Data(result.output.utf8))
    }

    func exec(_ id: String, _ command: [String], environment: [String], timeout: Duration) async -> Bool {
        guard !command.isEmpty else { return false }
        let arguments = ["exec"] + environment.flatMap { ["--env", $0] } + [id] + command
        guard let result = await Spawn.runQuietly(runcCommand(arguments), timeout: timeout) else { return false }
        return !result.timedOut && result.status.code == 0
    }

    func removeStrays(known: Set<String>) async {
        guard let result = await Spawn.runQuietly(runcCommand(["list", "--format", "json"])),
            result.status.code == 0,
            let containers = try? JSONDecoder().decode([ContainerState]?.self, from: Data(result.output.utf8))
        else { return }
        for container in containers ?? [] where !known.contains(container.id) {
            _ = await Spawn.runQuietly(runcCommand(["kill", "--all", container.id, "KILL"]))
            await release(container.id)
        }
        for stray in (try? FileManager.default.contentsOfDirectory(atPath: bundles)) ?? [] where !known.contains(stray)
        {
            try? FileManager.default.removeItem(atPath: bundle(stray))
        }
    }
}

extension Spawn {
    /// `run` with a 30 s bound, nil when it could not even start.
    static func runQuietly(_ argv: [String], timeout: Duration = .seconds(30)) async -> Result? {
        try? await run(argv, timeout: timeout)
    }
}
