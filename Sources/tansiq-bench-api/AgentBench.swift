import ArgumentParser
import Foundation
import TansiqTestSupport

/// `agent`: what the node agent costs a node, and how fast it starts what it is assigned.
struct AgentBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract:
            "Agent binary size, idle RSS with 0 and 10 isolated instances, idle CPU, apply-to-process-started time "
            + "for the host runtime and for images (cold pull, cached).",
        discussion: """
            Runs a controller and one tansiq-agent (both built beside this binary) on loopback; where
            docker-registry, skopeo and umoci are installed, also a registry with the demo image. Reads
            the agent's resident memory and CPU time from /proc (its own process only: containers are
            not its children's memory, and runc exits once a container runs); times each start from the
            apply that creates a one-replica application to the moment its process touches a file in
            its /data. The memory with 10 instances is read at the end of the idle window: what the
            agent holds running them, once it has been quiet long enough to hand back the pages their
            starts touched.
            """)

    @Option(
        name: .customLong("idle-seconds"),
        help: "How long idle CPU is measured (and the agent left alone before its memory is read).")
    var idleSeconds: Int = 60

    @Option(help: "Applications started one after another for the start latency.")
    var starts: Int = 20

    @Option(
        help: ArgumentHelp(
            "The agent binary measured (default: tansiq-agent beside this binary).",
            discussion:
                "scripts/build-agent.sh builds the light agent: standard library linked in, its code laid out by "
                + "a profile (scripts/profile-agent.sh), stripped."))
    var agent: String?

    /// Resident memory of a process, in bytes.
    static func rss(_ pid: Int32) -> Int { memory(pid)["VmRSS"] ?? 0 }

    /// The kB figures of /proc/PID/status, in bytes (`processMemory`).
    static func memory(_ pid: Int32) -> [String: Int] { processMemory(String(pid)) }

    /// Resident bytes by mapping of a process (/proc/PID/smaps), summed per file and permissions
    /// (`anonymous` for memory of its own), largest first.
    static func mappings(_ pid: Int32) -> [(String, Int)] {
        var sums: [String: Int] = [:]
        for mapping in residentMappings(String(pid)) {
            let name = mapping.path.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "anonymous"
            sums["\(name) \(mapping.permissions)", default: 0] += mapping.residentBytes
        }
        return sums.sorted { $0.value > $1.value }
    }

    /// How many threads a process runs.
    static func threads(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0
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

    /// Starts `count` one-replica applications one after another; for each, the milliseconds from
    /// its apply to the moment its process (a shell, first thing) touched a file in its /data,
    /// read from the file's modification time.
    static func starts(
        _ live: LiveController, _ agent: LiveAgent, count: Int, prefix: String, image: String?, keep: Bool = true
    ) async throws -> [Double] {
        var latencies: [Double] = []
        for index in 0..<count {
            let app = """
                apiVersion: tansiq/v1
                kind: Application
                metadata: {name: \(prefix)-\(index), ministry: bench}
                spec:
                  resources: {cpu: 10m, memory: 32Mi}\(image.map { "\n  image: \($0)" } ?? "")
                  run: {command: ["/bin/sh", "-c", "trap 'exit 0' TERM; : > /data/started; sleep 3600 & wait"]}
                """
            let applied = Date().timeIntervalSince1970
            let reply = try await live.call(
                .POST, "/v1/apply", token: live.operatorToken, body: app, contentType: "application/yaml")
            guard reply.status == 200 else { throw LiveError.failed("apply: \(reply.body)") }
            let deadline = Date().addingTimeInterval(120)
            var started: Double?
            while started == nil && Date() < deadline {
                let dirs = (try? FileManager.default.contentsOfDirectory(atPath: agent.dataDir + "/instances")) ?? []
                if let dir = dirs.first(where: { $0.hasPrefix("bench-\(prefix)-\(index)-") }) {
                    var info = stat()
                    if stat(agent.dataDir + "/instances/\(dir)/data/started", &info) == 0 {
                        started = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
                    }
                }
                if started == nil { try await Task.sleep(for: .milliseconds(2)) }
            }
            guard let started else { throw LiveError.failed("\(prefix)-\(index) did not start within 120 s") }
            latencies.append((started - applied) * 1000)
            if !keep { try await remove(live, agent, ["\(prefix)-\(index)"]) }
        }
        return latencies
    }

    /// Deletes applications and waits until the agent no longer runs their instances, so the
    /// next start is measured on a node that has room for it.
    static func remove(_ live: LiveController, _ agent: LiveAgent, _ names: [String]) async throws {
        for name in names {
            _ = try await live.call(.DELETE, "/v1/ministries/bench/applications/\(name)", token: live.operatorToken)
        }
        let deadline = Date().addingTimeInterval(60)
        func running() -> Bool {
            agent.instancePids.keys.contains { id in names.contains { id.hasPrefix("bench-\($0)-") } }
        }
        while running() {
            guard Date() < deadline else { throw LiveError.failed("\(names) still run 60 s after their deletion") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func run() async throws {
        let binary =
            agent.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            ?? productsDirectory.appendingPathComponent("tansiq-agent").path
        let size = ((try? FileManager.default.attributesOfItem(atPath: binary))?[.size] as? Int) ?? 0
        let registry = HostFacts.hasRegistryTools ? try await LiveRegistry() : nil
        defer { registry?.shutdown() }
        var imageReference: String?
        if let registry {
            imageReference = "\(registry.host)/bench/demo@" + (try await registry.pushDemo("bench/demo", tag: "1"))
        }
        let insecure = registry.map { ["--insecure-registry", $0.host] } ?? []
        try await LiveController.with(arguments: ["--grace-period", "10s"] + insecure) { live in
            let agent = try await LiveAgent(
                live, name: "bench-node", zone: "z1", ports: 33000...33999, statusInterval: 5, extra: insecure,
                executable: URL(fileURLWithPath: binary))
            do {
                try await measure(live, agent, imageReference: imageReference, size: size, binary: binary)
            } catch {
                await agent.shutdown()
                throw error
            }
            await agent.shutdown()
        }
    }

    /// The measurements over a running controller and agent.
    func measure(
        _ live: LiveController, _ agent: LiveAgent, imageReference: String?, size: Int, binary: String
    ) async throws {
        guard let pid = agent.pid else { throw LiveError.failed("the agent did not start") }
        _ = try await live.call(
            .POST, "/v1/apply", token: live.operatorToken, body: BenchWorkload.ministry,
            contentType: "application/yaml")
        try await Task.sleep(for: .seconds(5))
        let rssIdle = Self.rss(pid)

        var latencies = try await Self.starts(live, agent, count: starts, prefix: "start", image: nil)
        // Ten instances running, for the loaded memory and the idle CPU.
        try await Self.remove(live, agent, (min(10, starts)..<starts).map { "start-\($0)" })
        let hostRuntime = latencies
        latencies = []
        try await Task.sleep(for: .seconds(2))
        let running = agent.instancePids.count
        let rssStarted = Self.rss(pid)
        let cpuBefore = Self.cpuSeconds(pid)
        let idleFrom = Date()
        try await Task.sleep(for: .seconds(idleSeconds))
        // For a profile of the agent left alone (scripts/profile-agent.sh): when the window was.
        FileHandle.standardError.write(
            Data(
                String(
                    format: "idle window: %.3f %.3f (seconds since 1970)\n", idleFrom.timeIntervalSince1970,
                    Date().timeIntervalSince1970
                ).utf8))
        let cpuShare = (Self.cpuSeconds(pid) - cpuBefore) / Double(idleSeconds) * 100
        // What the agent holds running them: after the idle window (past its quiet period).
        let rssTen = Self.rss(pid)
        let parts = Self.memory(pid)
        let mappings = Self.mappings(pid)
        func pct(_ p: Double, _ values: [Double]) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0 }
            return
                (sorted[max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
                * 100).rounded() / 100
        }
        // Images: a cold pull from a registry on loopback, then starts of the cached image.
        var coldPull: Double?
        var cached: [Double] = []
        if let reference = imageReference {
            coldPull = try await Self.starts(live, agent, count: 1, prefix: "cold", image: reference, keep: false).first
            cached = try await Self.starts(
                live, agent, count: starts, prefix: "cached", image: reference, keep: false)
        }
        let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        print("agent binary \(binary): \(mib(size))")
        print(
            "idle RSS: \(mib(rssIdle)) with 0 instances, \(mib(rssTen)) with \(running) instances "
                + "after \(idleSeconds) s (\(mib(rssStarted)) right after their starts)")
        print(
            "  of which: own memory (RssAnon) \(mib(parts["RssAnon"] ?? 0)), pages of the binary and libraries "
                + "(RssFile) \(mib(parts["RssFile"] ?? 0)), shared (RssShmem) \(mib(parts["RssShmem"] ?? 0)); "
                + "threads \(Self.threads(pid))")
        let largest = mappings.prefix(8).map { "\($0.0) \(mib($0.1))" }
        print("  largest mappings: " + largest.joined(separator: ", "))
        print(
            "idle CPU over \(idleSeconds) s with \(running) instances: \(String(format: "%.2f", cpuShare)) % of a core"
        )
        print(
            "apply → process started, host runtime under runc, \(starts) applications: "
                + "p50 \(pct(50, hostRuntime)) ms  p99 \(pct(99, hostRuntime)) ms")
        if let coldPull {
            print("apply → process started, image pulled cold from a loopback registry: \(Int(coldPull)) ms")
            print(
                "apply → process started, image cached, \(starts) applications: "
                    + "p50 \(pct(50, cached)) ms  p99 \(pct(99, cached)) ms")
        } else {
            print("images: not measured (docker-registry, skopeo or umoci missing)")
        }
        var figures: [String: Double] = [
            "binaryBytes": Double(size), "rssIdleBytes": Double(rssIdle), "rssTenBytes": Double(rssTen),
            "rssStartedBytes": Double(rssStarted),
            "rssTenAnonBytes": Double(parts["RssAnon"] ?? 0), "rssTenFileBytes": Double(parts["RssFile"] ?? 0),
            "instances": Double(running), "idleCPUPercent": Double((cpuShare * 100).rounded() / 100),
            "startP50Ms": pct(50, hostRuntime), "startP99Ms": pct(99, hostRuntime),
        ]
        if let coldPull {
            figures["coldPullMs"] = coldPull.rounded()
            figures["cachedStartP50Ms"] = pct(50, cached)
            figures["cachedStartP99Ms"] = pct(99, cached)
        }
        Report.json("agent", figures)
    }
}
