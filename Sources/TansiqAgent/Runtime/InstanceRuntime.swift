import Foundation
import TansiqModel

/// Everything a runtime needs to start one instance, resolved by the supervisor: the command
/// (the image's entrypoint and cmd, or `run.command`), the environment, the user.
struct Launch: Sendable {
    var id: String
    var command: [String]
    /// `KEY=VALUE`, in order: the image's, `run.env`, then the agent's own variables.
    var environment: [String]
    /// nil: `/data` (the instance's own directory).
    var workingDirectory: String?
    var resources: ResourceRequest
    var runAs: RunAs?
    /// The image's unpacked root filesystem; nil for the host runtime.
    var rootfs: String?
    /// `instances/ID`: holds `data/` (the instance's `/data`) and `output.log`.
    var instanceDirectory: String
    /// The instance's secrets: the tmpfs on the node, and where it appears inside the instance.
    var secretMounts: [(host: String, mount: String)] = []

    var dataDirectory: String { instanceDirectory + "/data" }
    var log: String { instanceDirectory + "/output.log" }
}

/// A started instance's main process: its pid, and its kernel start time (to tell it from a
/// later process with the same pid).
struct StartedProcess: Sendable, Hashable, Codable {
    var pid: Int32
    var startTime: UInt64
}

/// How an instance's process ended, as far as the agent can know.
struct ExitReport: Sendable, Equatable {
    /// nil when the agent cannot know (an instance adopted after an agent restart).
    var status: ExitStatus?
    /// True when the kernel killed it for exceeding its memory limit.
    var oomKilled: Bool
}

/// What runs instances on this node: runc containers, or (only on a development machine
/// without runc) bare processes. Implementations are thread-safe; the supervisor calls them
/// for one instance at a time.
protocol InstanceRuntime: Sendable {
    /// What the node's status reports.
    var isolation: Isolation { get }

    /// Starts an instance. Throws with a sentence when it cannot start (the supervisor reports
    /// the instance Failed and backs off).
    func start(_ launch: Launch) async throws -> StartedProcess

    /// nil while the process runs; how it ended once it has.
    func exit(of id: String, _ process: StartedProcess) -> ExitReport?

    /// SIGTERM, then SIGKILL after `grace`, and waits (bounded) until it is gone.
    func stop(_ id: String, _ process: StartedProcess, grace: Duration) async

    /// Releases what the instance's last run held (container, cgroups), so it can start again
    /// or be removed.
    func release(_ id: String) async

    /// True when the process recorded for `id` still runs (a restarted agent adopts it).
    func isRunning(_ id: String, _ process: StartedProcess) async -> Bool

    /// Runs an exec health check inside the instance; true when it exits 0 within `timeout`.
    func exec(_ id: String, _ command: [String], environment: [String], timeout: Duration) async -> Bool

    /// At start: stops and removes whatever the runtime holds that `known` does not name.
    func removeStrays(known: Set<String>) async
}

extension StartedProcess {
    /// How the process ended, or nil while it runs: its status when it is this agent's child (reaped
    /// here), unknown for one adopted after a restart of the agent (its parent is gone); OOM kills
    /// from the instance's cgroup either way.
    func exit(of id: String, cgroups: Cgroups) -> ExitReport? {
        do {
            guard let status = try Spawn.poll(pid) else { return nil }
            return ExitReport(status: status, oomKilled: cgroups.oomKilled(instance: id))
        } catch {
            return isAlive ? nil : ExitReport(status: nil, oomKilled: cgroups.oomKilled(instance: id))
        }
    }

    /// Waits until the process is gone, at most `timeout`.
    func waitGone(for timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, isAlive { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// True when `pid` is the process started at `startTime` and has not exited (zombies count
    /// as exited).
    var isAlive: Bool {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, start time (field 22) the 20th here.
        guard fields.count > 19, UInt64(fields[19]) == startTime else { return false }
        return fields[0] != "Z"
    }

    /// The kernel's start time of `pid` (field 22 of /proc/PID/stat), or nil when it is gone.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }
}
