import Foundation
import TansiqModel

/// What the node has: measured from the host (cores, memory from /proc, disk of the data
/// directory), or declared (a share of the host), less what is reserved for the system.
public enum Facts {
    /// Cores, memory and the data directory's disk, as the host reports them.
    public static func measure(dataDir: String, instances: Int64 = 110) -> Resources {
        let cores = Int64(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        var memory: Int64 = 0
        if let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
            let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
            let kib = Int64(line.split(separator: " ").dropFirst().first ?? "")
        {
            memory = kib * 1024
        }
        var disk: Int64 = 0
        var stats = statvfs()
        if statvfs(dataDir, &stats) == 0 { disk = Int64(stats.f_blocks) * Int64(stats.f_frsize) }
        return Resources(cpuMillis: cores * 1000, memoryBytes: memory, storageBytes: disk, instances: instances)
    }

    /// Allocatable: capacity less the reserve, never below zero.
    public static func allocatable(_ capacity: Resources, reserve: ResourceLimits) -> Resources {
        Resources(
            cpuMillis: max(0, capacity.cpuMillis - (reserve.cpuMillis ?? 0)),
            memoryBytes: max(0, capacity.memoryBytes - (reserve.memoryBytes ?? 0)),
            storageBytes: max(0, capacity.storageBytes - (reserve.storageBytes ?? 0)),
            instances: max(0, capacity.instances - (reserve.instances ?? 0)))
    }

    /// Parses `cpu=2,memory=4Gi,storage=20Gi,instances=50` (any subset) into limits.
    public static func parseResources(_ text: String, flag: String) throws -> ResourceLimits {
        var limits = ResourceLimits()
        for part in text.split(separator: ",") where !part.isEmpty {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw AgentError.invalid("\(flag): \"\(part)\" is not NAME=QUANTITY") }
            do {
                switch pair[0] {
                case "cpu": limits.cpuMillis = try Quantity.parseCPU(pair[1])
                case "memory": limits.memoryBytes = try Quantity.parseBytes(pair[1])
                case "storage": limits.storageBytes = try Quantity.parseBytes(pair[1])
                case "instances":
                    guard let n = Int64(pair[1]), n >= 0 else { throw QuantityError("not a whole number") }
                    limits.instances = n
                default:
                    throw AgentError.invalid(
                        "\(flag): unknown resource \"\(pair[0])\"; cpu, memory, storage or instances")
                }
            } catch let error as QuantityError {
                throw AgentError.invalid("\(flag): \(pair[0])=\(pair[1]): \(error.message)")
            }
        }
        return limits
    }
}

extension Facts {
    /// The local address a connection to `url`'s host leaves from (the routing table's choice:
    /// a UDP socket is connected, nothing is sent), or nil when it cannot be found.
    public static func outboundAddress(toward url: String) -> String? {
        guard let components = URLComponents(string: url), let host = components.host else { return nil }
        let port = components.port ?? 443
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let name = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        guard getaddrinfo(name, String(port), &hints, &found) == 0, let first = found else { return nil }
        defer { freeaddrinfo(first) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            defer { entry = info.pointee.ai_next }
            let fd = socket(info.pointee.ai_family, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else { continue }
            var local = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let named = withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard named == 0 else { continue }
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let converted = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    getnameinfo($0, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST)
                }
            }
            if converted == 0 { return String(cString: text) }
        }
        return nil
    }
}
