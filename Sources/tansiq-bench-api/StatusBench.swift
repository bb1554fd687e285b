import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel
import TansiqTestSupport

/// `status`: nodes report their status over real mutual TLS with keep-alive connections.
struct StatusBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract:
            "Agent status updates/s and latency: back to back from a few nodes, and at a steady interval from many.",
        discussion: """
            Joins the nodes first (each with its own key, CSR and certificate), then runs two phases:
            --burst-nodes nodes send statuses back to back for --burst-seconds; then --nodes nodes send one
            status every --interval seconds, spread evenly, for --steady-seconds. Statuses repeat what the
            node reported before, as a healthy node's do, so they cost the controller no write — unless
            --changing, when every status changes a label of its node and is written to the store (in
            batches). --store both runs it against SQLite, then against two controllers on PostgreSQL
            through the leader, then through a follower.
            """)

    @Option(help: "Nodes of the steady phase.")
    var nodes: Int = 2000

    @Option(help: "Seconds between one node's statuses in the steady phase.")
    var interval: Double = 5

    @Option(name: .customLong("steady-seconds"), help: "Length of the steady phase.")
    var steadySeconds: Double = 15

    @Option(name: .customLong("burst-nodes"), help: "Nodes of the back-to-back phase.")
    var burstNodes: Int = 200

    @Option(name: .customLong("burst-seconds"), help: "Length of the back-to-back phase.")
    var burstSeconds: Double = 10

    @Flag(help: "Every status changes its node (a label), so every one is written to the store.")
    var changing = false

    @Option(help: "The store: sqlite, postgres (through the leader and through a follower) or both.")
    var store: BenchStores = .sqlite

    func validate() throws {
        guard nodes >= 1, burstNodes >= 1, burstNodes <= nodes, interval > 0, steadySeconds > 0, burstSeconds > 0 else {
            throw ValidationError("--nodes ≥ --burst-nodes ≥ 1, and positive --interval and durations")
        }
    }

    /// A node's status: what it joined with, its zone label, and `beat` when statuses change.
    static func status(_ node: SimulatedNode, beat: Int? = nil) -> AgentProtocol.Status {
        let capacity = Resources(cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 100 << 30, instances: 50)
        var labels = ["zone": BenchWorkload.zone(of: node)]
        if let beat { labels["beat"] = String(beat) }
        return AgentProtocol.Status(
            capacity: capacity, allocatable: capacity, labels: labels, enforcement: .none, instances: [])
    }

    /// Sends one status, adding its time and whether it was refused to `tally`.
    func send(_ node: SimulatedNode, into tally: inout ([Duration], Int)) async throws {
        let start = ContinuousClock.now
        let beat = changing ? tally.0.count : nil
        let reply = try await node.send(.PUT, "/v1/agent/nodes/\(node.name)/status", Self.status(node, beat: beat))
        tally.0.append(ContinuousClock.now - start)
        if reply.status != 200 { tally.1 += 1 }
    }

    func run() async throws {
        var lines: [String] = []
        var figures: [String: Double] = [
            "nodes": Double(nodes), "burstNodes": Double(burstNodes), "interval": Double(interval),
            "changing": changing ? 1 : 0,
        ]
        try await BenchTarget.each(store) { target in
            let live = target.live
            let joinStart = ContinuousClock.now
            let fleet = try await BenchWorkload.fleet(live, count: nodes)
            let joinSeconds = (ContinuousClock.now - joinStart).seconds
            // Every node reports once, so the phases measure steady reports, not the first ones.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, node) in fleet.enumerated() {
                    if index >= 64 { try await group.next() }
                    group.addTask {
                        _ = try await node.send(.PUT, "/v1/agent/nodes/\(node.name)/status", Self.status(node))
                    }
                }
                try await group.waitForAll()
            }

            let burstStart = ContinuousClock.now
            let burstEnd = burstStart + .milliseconds(Int64(burstSeconds * 1000))
            let burst = try await withThrowingTaskGroup(of: ([Duration], Int).self) { group in
                for node in fleet.prefix(burstNodes) {
                    group.addTask {
                        var tally: ([Duration], Int) = ([], 0)
                        while ContinuousClock.now < burstEnd { try await send(node, into: &tally) }
                        return tally
                    }
                }
                return try await group.reduce(into: ([Duration](), 0)) {
                    $0.0 += $1.0; $0.1 += $1.1
                }
            }
            let burstRate = Double(burst.0.count) / (ContinuousClock.now - burstStart).seconds

            let steadyStart = ContinuousClock.now
            let rounds = max(1, Int(steadySeconds / interval))
            let steady = try await withThrowingTaskGroup(of: ([Duration], Int).self) { group in
                for (index, node) in fleet.enumerated() {
                    group.addTask {
                        var tally: ([Duration], Int) = ([], 0)
                        let offset = interval * Double(index) / Double(nodes)
                        for round in 0..<rounds {
                            let due = steadyStart + .milliseconds(Int64((offset + Double(round) * interval) * 1000))
                            try await Task.sleep(until: due, clock: .continuous)
                            try await send(node, into: &tally)
                        }
                        return tally
                    }
                }
                return try await group.reduce(into: ([Duration](), 0)) {
                    $0.0 += $1.0; $0.1 += $1.1
                }
            }
            let steadyRate = Double(steady.0.count) / (ContinuousClock.now - steadyStart).seconds
            for node in fleet { await node.shutdown() }

            let b = Percentiles(burst.0)
            let s = Percentiles(steady.0)
            lines.append(
                "\(target.name): \(nodes) nodes joined over mTLS in \(String(format: "%.1f", joinSeconds)) s\n"
                    + "  back to back, \(burstNodes) nodes, \(burst.0.count) statuses, \(burst.1) errors: "
                    + "\(String(format: "%.0f", burstRate)) statuses/s  p50 \(b.ms(50)) ms  p99 \(b.ms(99)) ms\n"
                    + "  every \(interval) s, \(nodes) nodes, \(steady.0.count) statuses, \(steady.1) errors: "
                    + "\(String(format: "%.0f", steadyRate)) statuses/s  p50 \(s.ms(50)) ms  p99 \(s.ms(99)) ms")
            for (name, value) in [
                ("JoinSeconds", (joinSeconds * 10).rounded() / 10), ("BurstStatuses", Double(burst.0.count)),
                ("BurstErrors", Double(burst.1)), ("BurstPerSecond", burstRate.rounded()),
                ("BurstP50Ms", b.value(50)), ("BurstP99Ms", b.value(99)), ("SteadyStatuses", Double(steady.0.count)),
                ("SteadyErrors", Double(steady.1)), ("SteadyPerSecond", steadyRate.rounded()),
                ("SteadyP50Ms", s.value(50)), ("SteadyP99Ms", s.value(99)),
            ] {
                figures[target.key + name] = value
            }
        }
        print(
            "node statuses over mTLS\(changing ? ", every one changing its node (written)" : " (repeating: no write)"):"
        )
        for line in lines { print(line) }
        Report.json("api-status", figures)
    }
}
