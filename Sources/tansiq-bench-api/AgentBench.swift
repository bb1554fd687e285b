import ArgumentParser
import Foundation
import TansiqTestSupport

/// `agent`: what the node agent costs a node, and how fast it starts what it is assigned.
struct AgentBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Agent binary size, idle RSS with 0 and 10 instances, idle CPU, assignment-to-process-started time.",
        discussion: """
            Runs a controller and one tansiq-agent (both built beside this binary) on loopback. Reads the
            agent's resident memory and CPU time from /proc; times each start from the apply that
            creates a one-replica application to the moment its process writes its first line.
            """)

    @Option(name: .customLong("idle-seconds"), help: "How long idle CPU is measured.")
    var idleSeconds: Int = 60

    @Option(help: "Applications started one after another for the start latency.")
    var starts: Int = 20

    /// Resident memory of a process, in bytes.
    static func rss(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    /// User plus system CPU seconds of a process.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func run() async throws {
        let binary = productsDirectory.appendingPathComponent("tansiq-agent").path
        let size = ((try? FileManager.default.attributesOfItem(atPath: binary))?[.size] as? Int) ?? 0
        try await LiveController.with(arguments: ["--grace-period", "10s"]) { live in
            let agent = try LiveAgent(live, name: "bench-node", zone: "z1", ports: 33000...33999, statusInterval: 5)
            defer { agent.shutdown() }
            guard let pid = agent.pid else { throw LiveError.failed("the agent did not start") }
            _ = try await live.call(
                .POST, "/v1/apply", token: live.operatorToken, body: BenchWorkload.ministry,
                contentType: "application/yaml")
            try await Task.sleep(for: .seconds(5))
            let rssIdle = Self.rss(pid)

            let marks = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-agent-bench-\(getpid())")
            try FileManager.default.createDirectory(at: marks, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: marks) }
            var latencies: [Double] = []
            for index in 0..<starts {
                let mark = marks.appendingPathComponent("\(index)").path
                let app = """
                    apiVersion: tansiq/v1
                    kind: Application
                    metadata: {name: start-\(index), ministry: bench}
                    spec:
                      resources: {cpu: 10m, memory: 16Mi}
                      run: {command: ["/bin/sh", "-c", "date +%s.%N > \(mark); exec sleep 3600"]}
                    """
                let applied = Date().timeIntervalSince1970
                let reply = try await live.call(
                    .POST, "/v1/apply", token: live.operatorToken, body: app, contentType: "application/yaml")
                guard reply.status == 200 else { throw LiveError.failed("apply: \(reply.body)") }
                let deadline = Date().addingTimeInterval(10)
                var started: Double?
                while started == nil && Date() < deadline {
                    started = (try? String(contentsOfFile: mark, encoding: .utf8))
                        .flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                    if started == nil { try await Task.sleep(for: .milliseconds(2)) }
                }
                guard let started else { throw LiveError.failed("start-\(index) did not start within 10 s") }
                latencies.append((started - applied) * 1000)
            }
            // Ten instances running, for the loaded memory and the idle CPU.
            for index in 10..<starts {
                _ = try await live.call(
                    .DELETE, "/v1/ministries/bench/applications/start-\(index)", token: live.operatorToken)
            }
            try await Task.sleep(for: .seconds(5))
            let running = agent.instancePids.count
            let rssTen = Self.rss(pid)
            let cpuBefore = Self.cpuSeconds(pid)
            try await Task.sleep(for: .seconds(idleSeconds))
            let cpuShare = (Self.cpuSeconds(pid) - cpuBefore) / Double(idleSeconds) * 100
            let sorted = latencies.sorted()
            func pct(_ p: Double) -> Double {
                (sorted[max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))] * 100)
                    .rounded() / 100
            }
            let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
            print("agent binary \(binary): \(mib(size))")
            print("idle RSS: \(mib(rssIdle)) with 0 instances, \(mib(rssTen)) with \(running) instances")
            print(
                "idle CPU over \(idleSeconds) s with \(running) instances: \(String(format: "%.2f", cpuShare)) % of a core"
            )
            print("apply → process started, \(starts) applications: p50 \(pct(50)) ms  p99 \(pct(99)) ms")
            let json: [String: Any] = [
                "benchmark": "agent", "binaryBytes": size, "rssIdleBytes": rssIdle, "rssTenBytes": rssTen,
                "instances": running, "idleCPUPercent": (cpuShare * 100).rounded() / 100, "startP50Ms": pct(50),
                "startP99Ms": pct(99),
            ]
            print(
                String(
                    decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
        }
    }
}
