import Foundation
import TansiqModel

/// Starts and stops instances as real processes: each in its own process group (Foundation's
/// `Process` makes the child a group leader), in its cgroups before its command runs (a shell
/// joins them, then `exec`s the command), with stdout and stderr appended to a log file.
enum ProcessDriver {
    /// What one launch needs.
    struct Launch {
        var command: [String]
        var environment: [String: String]
        var workingDirectory: String
        var cgroupProcs: [String]
        var log: String
    }

    /// A started process: its pid, its kernel start time (to tell it from a later process with
    /// the same pid), and the `Process` while this agent is its parent.
    struct Started {
        var pid: Int32
        var startTime: UInt64
        var process: Process
    }

    /// Exit code the shell uses when the process cannot join its cgroup.
    static let cgroupFailure: Int32 = 125

    /// Starts `launch`; `onExit` gets the pid, the exit status and whether a signal ended it.
    static func start(_ launch: Launch, onExit: @escaping @Sendable (Int32, Int32, Bool) -> Void) throws -> Started {
        try FileManager.default.createDirectory(atPath: launch.workingDirectory, withIntermediateDirectories: true)
        let fd = open(launch.log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw AgentError.io("cannot open \(launch.log)") }
        let log = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let join = "for p in $TANSIQ_CGROUP_PROCS; do echo $$ > \"$p\" || exit \(cgroupFailure); done; exec \"$@\""
        process.arguments = ["-c", join, "tansiq-instance"] + launch.command
        var environment = launch.environment
        environment["TANSIQ_CGROUP_PROCS"] = launch.cgroupProcs.joined(separator: " ")
        if environment["PATH"] == nil {
            environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        }
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: launch.workingDirectory)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { process in
            onExit(process.processIdentifier, process.terminationStatus, process.terminationReason == .uncaughtSignal)
        }
        try process.run()
        let pid = process.processIdentifier
        return Started(pid: pid, startTime: startTime(of: pid) ?? 0, process: process)
    }

    /// The kernel's start time of `pid` (field 22 of /proc/PID/stat), or nil when it is gone.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, so start time (field 22) is the 20th here.
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// True when `pid` is the process started at `startTime` and has not exited.
    static func isAlive(pid: Int32, startTime: UInt64) -> Bool {
        guard pid > 0, let current = self.startTime(of: pid), current == startTime else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    /// SIGTERM to the group, then SIGKILL after `grace` if anything is left.
    static func stop(pid: Int32, startTime: UInt64, grace: Duration) async {
        guard isAlive(pid: pid, startTime: startTime) else { return }
        kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if !isAlive(pid: pid, startTime: startTime) { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        kill(-pid, SIGKILL)
    }

    /// Keeps a log under `limit` bytes: past it, the log is copied to `.1` and truncated (the
    /// process appends, so it carries on at the new end).
    static func rotate(_ log: String, limit: Int64) {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: log))?[.size] as? Int64, size > limit
        else { return }
        let old = log + ".1"
        try? FileManager.default.removeItem(atPath: old)
        try? FileManager.default.copyItem(atPath: log, toPath: old)
        truncate(log, 0)
    }
}
