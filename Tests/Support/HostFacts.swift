import Foundation

/// What this machine offers the end-to-end tests; a test that needs what is missing is
/// disabled with the reason (`.enabled(if:)`), never skipped silently.
public enum HostFacts {
    /// The first of `names` found executable in the usual directories.
    public static func tool(_ names: String...) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for name in names {
            for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin", "/bin"] + path {
                let path = dir + "/" + name
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        return nil
    }

    /// runc, the OCI runtime the agent runs instances with.
    public static let runc = tool("runc")
    /// True when runc is installed.
    public static let hasRunc = runc != nil

    /// True when the agent can limit memory: a writable cgroup v1 memory hierarchy, or a cgroup v2
    /// root that has the memory controller.
    public static let hasMemoryCgroup: Bool = {
        let fm = FileManager.default
        if let controllers = try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8),
            controllers.contains("memory")
        {
            return fm.isWritableFile(atPath: "/sys/fs/cgroup")
        }
        return fm.isWritableFile(atPath: "/sys/fs/cgroup/memory")
    }()

    /// Debian's docker-registry, skopeo and umoci: a real registry and the tools that build and push images.
    public static let registry = tool("docker-registry", "registry")
    public static let skopeo = tool("skopeo")
    public static let umoci = tool("umoci")
    /// True when images can be built, pushed and served here.
    public static let hasRegistryTools = registry != nil && skopeo != nil && umoci != nil && hasRunc
    /// Debian's nginx, which the gateway drives.
    public static let nginx = tool("nginx")
    /// True when a gateway can publish real instances here: nginx, and runc for the instances.
    public static let hasGatewayParts = nginx != nil && hasRunc
    /// Debian's `testssl.sh` (the command is `testssl`) and `prometheus` (for `promtool`).
    public static let testssl = tool("testssl", "testssl.sh")
    public static let promtool = tool("promtool")
    /// schemathesis, from PyPI (the API fuzzing pass).
    public static let schemathesis = tool("schemathesis")

    /// True when process `pid` exists and has not exited (a zombie has exited).
    public static func isRunning(_ pid: Int32) -> Bool {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }
}

extension HostFacts {
    /// Debian's chromium and chromedriver, and Python's selenium: a real browser for the dashboard.
    public static let chromium = tool("chromium")
    public static let chromedriver = tool("chromedriver")
    public static let hasBrowser: Bool = {
        guard chromium != nil, chromedriver != nil else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import selenium"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()
}
