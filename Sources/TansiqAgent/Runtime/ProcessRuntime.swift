import Foundation
import TansiqModel

/// Runs instances as bare processes of the agent, limited by cgroups but not isolated: only for
/// a development machine without runc (`tansiq-agent run --allow-unisolated`). Each process is a
/// session leader; a shell joins the instance's cgroups and enters its working directory, then
/// `exec`s the command, so it is limited before it runs.
struct ProcessRuntime: InstanceRuntime {
    let cgroups: Cgroups

    var isolation: Isolation { .none }

    /// Exit code of the shell when the process cannot join its cgroups.
    static let cgroupFailure = 125

    func start(_ launch: Launch) async throws -> StartedProcess {
        guard launch.rootfs == nil else {
            throw AgentError.invalid("images need runc, and this node runs instances unisolated (no runc)")
        }
        try FileManager.default.createDirectory(atPath: launch.dataDirectory, withIntermediateDirectories: true)
        let procs = try cgroups.prepare(
            instance: launch.id, memoryBytes: launch.resources.memoryBytes, cpuMillis: launch.resources.cpuMillis)
        let script =
            "for p in $TANSIQ_CGROUP_PROCS; do echo $$ > \"$p\" || exit \(Self.cgroupFailure); done; "
            + "cd \"$TANSIQ_WORKDIR\" || exit 126; unset TANSIQ_CGROUP_PROCS TANSIQ_WORKDIR; exec \"$@\""
        // Unisolated, a secret cannot appear at its mount path: its tmpfs is named instead.
        let secrets =
            launch.secretMounts.isEmpty
            ? [] : ["TANSIQ_SECRETS=" + (launch.secretMounts[0].host as NSString).deletingLastPathComponent]
        let environment =
            launch.environment + secrets + [
                "TANSIQ_CGROUP_PROCS=" + procs.joined(separator: " "),
                "TANSIQ_WORKDIR=" + (launch.workingDirectory ?? launch.dataDirectory),
            ]
        let pid = try Spawn.start(
            ["/bin/sh", "-c", script, "tansiq-instance"] + launch.command, environment: environment,
            output: .append(launch.log))
        return StartedProcess(pid: pid, startTime: StartedProcess.startTime(of: pid) ?? 0)
    }

    func exit(of id: String, _ process: StartedProcess) -> ExitReport? { process.exit(of: id, cgroups: cgroups) }

    func stop(_ id: String, _ process: StartedProcess, grace: Duration) async {
        guard process.isAlive else { return }
        kill(-process.pid, SIGTERM)
        await process.waitGone(for: grace)
        if process.isAlive { kill(-process.pid, SIGKILL) }
        await process.waitGone(for: .seconds(5))
    }

    func release(_ id: String) async { cgroups.remove(instance: id) }

    func isRunning(_ id: String, _ process: StartedProcess) async -> Bool { process.isAlive }

    func exec(_ id: String, _ command: [String], environment: [String], timeout: Duration) async -> Bool {
        guard !command.isEmpty,
            let result = try? await Spawn.run(
                ["/bin/sh", "-c", "exec \"$@\"", "tansiq-probe"] + command, environment: environment, timeout: timeout)
        else { return false }
        return !result.timedOut && result.status.code == 0
    }

    func removeStrays(known: Set<String>) async {}
}
