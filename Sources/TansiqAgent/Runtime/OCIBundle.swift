import Foundation
import TansiqModel

/// The isolation every runc instance gets (DESIGN's "Running instances"), as settings of the
/// node's agent.
public struct IsolationSettings: Sendable, Hashable, Codable {
    /// Host directories the host runtime shows read-only besides the system's (`--host-path`).
    public var hostPaths: [String]
    /// Size of the private `/tmp` (`--tmp-size`).
    public var tmpBytes: Int64
    /// Processes per instance (`--pids-limit`).
    public var pidsLimit: Int

    public init(hostPaths: [String] = [], tmpBytes: Int64 = 64 << 20, pidsLimit: Int = 1024) {
        self.hostPaths = hostPaths
        self.tmpBytes = tmpBytes
        self.pidsLimit = pidsLimit
    }

    /// The node's system directories the host runtime shows read-only.
    static let systemDirectories = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc"]
}

/// The OCI runtime `config.json` of one instance: pure, from the launch and the settings.
struct OCIConfig: Encodable {
    struct Process: Encodable {
        struct User: Encodable {
            var uid: Int
            var gid: Int
            var additionalGids: [Int] = []
        }
        struct Capabilities: Encodable {
            var bounding: [String] = []
            var effective: [String] = []
            var inheritable: [String] = []
            var permitted: [String] = []
            var ambient: [String] = []
        }
        var terminal = false
        var user: User
        var args: [String]
        var env: [String]
        var cwd: String
        var capabilities = Capabilities()
        var noNewPrivileges = true
    }
    struct Root: Encodable {
        var path: String
        var readonly = true
    }
    struct Mount: Encodable {
        var destination: String
        var type: String
        var source: String
        var options: [String]
    }
    struct Linux: Encodable {
        struct Resources: Encodable {
            struct Memory: Encodable {
                var limit: Int64
                var swap: Int64
            }
            struct CPU: Encodable {
                var quota: Int64
                var period: UInt64
            }
            struct Pids: Encodable { var limit: Int64 }
            var memory: Memory
            var cpu: CPU
            var pids: Pids
        }
        struct Namespace: Encodable { var type: String }
        var resources: Resources
        var cgroupsPath: String
        var namespaces = ["pid", "ipc", "uts", "mount"].map(Namespace.init)
        var maskedPaths = [
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
            "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        ]
        var readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
    }

    var ociVersion = "1.0.2"
    var process: Process
    var root: Root
    var hostname: String
    var mounts: [Mount]
    var linux: Linux

    /// The config of `launch` under `settings`; `rootfs` is the root the bundle points at (the
    /// image's, or the bundle's own near-empty one for the host runtime), `cgroupParent` the
    /// agent's cgroup (`tansiq-NODE`).
    init(launch: Launch, runAs: RunAs, rootfs: String, settings: IsolationSettings, cgroupParent: String) {
        process = Process(
            user: Process.User(uid: runAs.uid, gid: runAs.gid), args: launch.command, env: launch.environment,
            cwd: launch.workingDirectory ?? "/data")
        root = Root(path: rootfs)
        hostname = String(launch.id.prefix(63))
        var mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            Mount(
                destination: "/dev", type: "tmpfs", source: "tmpfs",
                options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(
                destination: "/dev/pts", type: "devpts", source: "devpts",
                options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
            Mount(
                destination: "/dev/shm", type: "tmpfs", source: "shm",
                options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        ]
        if launch.rootfs == nil {
            // The host runtime: the node's system directories (those that are not symbolic links;
            // the bundle's root has the same links) and the operator's allowed paths, read-only.
            for dir in IsolationSettings.systemDirectories where !Self.isSymlink(dir) && Self.isDirectory(dir) {
                mounts.append(Self.readOnlyBind(dir))
            }
            for dir in settings.hostPaths { mounts.append(Self.readOnlyBind(dir, from: Self.resolved(dir))) }
        }
        mounts.append(
            Mount(
                destination: "/tmp", type: "tmpfs", source: "tmpfs",
                options: ["nosuid", "nodev", "mode=1777", "size=\(settings.tmpBytes)"]))
        mounts.append(
            Mount(
                destination: "/data", type: "bind", source: launch.dataDirectory,
                options: ["rbind", "rw", "nosuid", "nodev"]))
        for secret in launch.secretMounts {
            mounts.append(
                Mount(
                    destination: secret.mount, type: "bind", source: secret.host,
                    options: ["rbind", "ro", "nosuid", "nodev", "noexec"]))
        }
        self.mounts = mounts
        let cpuQuota = max(1000, launch.resources.cpuMillis * 100)
        linux = Linux(
            resources: .init(
                memory: .init(limit: launch.resources.memoryBytes, swap: launch.resources.memoryBytes),
                cpu: .init(quota: cpuQuota, period: 100_000), pids: .init(limit: Int64(settings.pidsLimit))),
            cgroupsPath: "/\(cgroupParent)/\(launch.id)")
    }

    static func readOnlyBind(_ dir: String, from source: String? = nil) -> Mount {
        Mount(destination: dir, type: "bind", source: source ?? dir, options: ["rbind", "ro", "nosuid", "nodev"])
    }

    /// Where a path really is (links resolved), or the path itself when it does not exist.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    static func isSymlink(_ path: String) -> Bool {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
