import Foundation
import TansiqModel

/// Resource limits through cgroups, on the hierarchy the node has: v2 (unified, with the memory
/// controller), v1 (memory and cpu controllers mounted apart), or none (limits not enforced,
/// and the agent says so in its status).
public struct Cgroups: Sendable {
    enum Layout: Sendable {
        case v2(base: String)
        case v1(memory: String, cpu: String?)
        case none
    }

    let layout: Layout

    /// What the node enforces.
    public var enforcement: Enforcement {
        switch layout {
        case .v2: .cgroupV2
        case .v1: .cgroupV1
        case .none: .none
        }
    }

    /// Finds a writable hierarchy and makes the agent's own group (`tansiq-NAME`) in it.
    public static func detect(agent name: String, root: String = "/sys/fs/cgroup") -> Cgroups {
        let group = "tansiq-\(name)"
        let fm = FileManager.default
        if let controllers = try? String(contentsOfFile: root + "/cgroup.controllers", encoding: .utf8),
            controllers.split(separator: " ").contains(where: {
                $0.trimmingCharacters(in: .whitespacesAndNewlines) == "memory"
            })
        {
            let base = root + "/" + group
            // Enabling the controllers at the root may be refused (they may be enabled already).
            write("+memory +cpu", to: root + "/cgroup.subtree_control")
            if (try? fm.createDirectory(atPath: base, withIntermediateDirectories: true)) != nil,
                write("+memory +cpu", to: base + "/cgroup.subtree_control"),
                fm.fileExists(atPath: base + "/memory.max") || probe(base)
            {
                return Cgroups(layout: .v2(base: base))
            }
        }
        let memory = root + "/memory/" + group
        if (try? fm.createDirectory(atPath: memory, withIntermediateDirectories: true)) != nil,
            fm.isWritableFile(atPath: memory + "/memory.limit_in_bytes")
        {
            let cpu = root + "/cpu/" + group
            let hasCPU =
                (try? fm.createDirectory(atPath: cpu, withIntermediateDirectories: true)) != nil
                && fm.isWritableFile(atPath: cpu + "/cpu.cfs_quota_us")
            return Cgroups(layout: .v1(memory: memory, cpu: hasCPU ? cpu : nil))
        }
        return Cgroups(layout: .none)
    }

    /// Whether a v2 group can take children with the memory controller.
    private static func probe(_ base: String) -> Bool {
        let test = base + "/probe"
        defer { rmdir(test) }
        return (try? FileManager.default.createDirectory(atPath: test, withIntermediateDirectories: false)) != nil
            && FileManager.default.fileExists(atPath: test + "/memory.max")
    }

    @discardableResult
    static func write(_ text: String, to path: String) -> Bool {
        guard let handle = FileHandle(forWritingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data(text.utf8))) != nil
    }

    /// Makes an instance's groups with its limits; returns the `cgroup.procs` files its process
    /// must join before it runs its command.
    func prepare(instance id: String, memoryBytes: Int64, cpuMillis: Int64) throws -> [String] {
        let fm = FileManager.default
        switch layout {
        case .none:
            return []
        case .v2(let base):
            let dir = base + "/" + id
            try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            guard Self.write(String(memoryBytes), to: dir + "/memory.max") else {
                throw AgentError.io("cannot set memory.max of \(dir)")
            }
            Self.write("0", to: dir + "/memory.swap.max")
            if cpuMillis > 0 { Self.write("\(cpuMillis * 100) 100000", to: dir + "/cpu.max") }
            return [dir + "/cgroup.procs"]
        case .v1(let memory, let cpu):
            let dir = memory + "/" + id
            try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            guard Self.write(String(memoryBytes), to: dir + "/memory.limit_in_bytes") else {
                throw AgentError.io("cannot set memory.limit_in_bytes of \(dir)")
            }
            Self.write(String(memoryBytes), to: dir + "/memory.memsw.limit_in_bytes")
            var procs = [dir + "/cgroup.procs"]
            if let cpu {
                let cpuDir = cpu + "/" + id
                try? fm.createDirectory(atPath: cpuDir, withIntermediateDirectories: true)
                Self.write("100000", to: cpuDir + "/cpu.cfs_period_us")
                if cpuMillis > 0 { Self.write(String(cpuMillis * 100), to: cpuDir + "/cpu.cfs_quota_us") }
                procs.append(cpuDir + "/cgroup.procs")
            }
            return procs
        }
    }

    /// True when the kernel killed a process of the instance's group for memory.
    func oomKilled(instance id: String) -> Bool {
        let file: String
        switch layout {
        case .none: return false
        case .v2(let base): file = base + "/" + id + "/memory.events"
        case .v1(let memory, _): file = memory + "/" + id + "/memory.oom_control"
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains { line in
            let parts = line.split(separator: " ")
            return parts.count == 2 && parts[0] == "oom_kill" && (Int(parts[1]) ?? 0) > 0
        }
    }

    /// Removes an instance's groups (once its processes are gone).
    func remove(instance id: String) {
        switch layout {
        case .none: break
        case .v2(let base): rmdir(base + "/" + id)
        case .v1(let memory, let cpu):
            rmdir(memory + "/" + id)
            if let cpu { rmdir(cpu + "/" + id) }
        }
    }
}
