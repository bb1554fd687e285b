import ArgumentParser
import Foundation
import NIOHTTP1
import TansiqTestSupport

/// `tansiq-bench-api`: benchmarks of the controller over real HTTPS. Each starts a real
/// `tansiq-controller` (built beside this binary) on a fresh data directory and loopback port.
@main
struct BenchAPI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tansiq-bench-api",
        abstract:
            "Benchmarks of the controller's API over HTTPS (and `registry`, its in-memory work); each prints a summary and, last, one JSON line.",
        subcommands: [
            ApplyBench.self, StatusBench.self, LoopsBench.self, AgentBench.self, SoakBench.self, FailoverBench.self,
            GatewayBench.self, ScaleBench.self, CompareSlurmBench.self, RegistryBench.self,
        ]
    )
}

/// `apply`: latency of one apply of a 10-replica application, then applies/s from concurrent clients.
struct ApplyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply latency (p50/p99) for a 10-replica application, and applies/s with concurrent clients.",
        discussion: """
            Every apply creates a new application (10 replicas of 100m/64Mi: ten Pending instances), so
            each one is admitted against the quota, written with its audit record and fsynced before it
            is answered. Build the controller in release beside this binary for representative figures.
            --store both runs it against SQLite, then against two controllers on PostgreSQL through the
            leader, then through a follower (TANSIQ_TEST_POSTGRES names a server, else one is started
            from Debian's postgresql), and prints them side by side.
            """)

    @Option(help: "Sequential applies measured for latency.")
    var requests: Int = 300

    @Option(help: "Concurrent clients for the throughput run.")
    var clients: Int = 8

    @Option(name: .customLong("concurrent-requests"), help: "Applies in the throughput run (all clients).")
    var concurrentRequests: Int = 800

    @Option(help: "Replicas of each application.")
    var replicas: Int = 10

    @Option(help: "The store: sqlite, postgres (through the leader and through a follower) or both.")
    var store: BenchStores = .sqlite

    func validate() throws {
        guard requests >= 10, clients >= 1, concurrentRequests >= clients, replicas >= 1 else {
            throw ValidationError("--requests ≥ 10, --clients ≥ 1, --concurrent-requests ≥ --clients, --replicas ≥ 1")
        }
    }

    func application(_ name: String) -> String { BenchWorkload.application(name, replicas: replicas) }

    func apply(_ live: LiveController, _ body: String) async throws -> Duration {
        let start = ContinuousClock.now
        let reply = try await live.call(
            .POST, "/v1/apply", token: live.operatorToken, body: body, contentType: "application/yaml")
        let elapsed = ContinuousClock.now - start
        guard reply.status == 200 else { throw LiveError.failed("apply answered \(reply.status): \(reply.body)") }
        return elapsed
    }

    func run() async throws {
        var rows: [(String, Percentiles, Percentiles, Double, Int)] = []
        var figures: [String: Double] = [
            "replicas": Double(replicas), "requests": Double(requests), "clients": Double(clients),
        ]
        try await BenchTarget.each(store) { target in
            let live = target.live
            _ = try await apply(live, BenchWorkload.ministry)
            for i in 0..<20 { _ = try await apply(live, application("warm-\(i)")) }
            var sequential: [Duration] = []
            for i in 0..<requests { sequential.append(try await apply(live, application("seq-\(i)"))) }
            let perClient = concurrentRequests / clients
            let start = ContinuousClock.now
            let loaded = try await withThrowingTaskGroup(of: [Duration].self) { group in
                for c in 0..<clients {
                    group.addTask {
                        var times: [Duration] = []
                        for i in 0..<perClient { times.append(try await apply(live, application("c\(c)-\(i)"))) }
                        return times
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let wall = ContinuousClock.now - start
            let rate = Double(loaded.count) / wall.seconds
            let seq = Percentiles(sequential)
            let load = Percentiles(loaded)
            rows.append((target.name, seq, load, rate, loaded.count))
            for (name, value) in [
                ("P50Ms", seq.value(50)), ("P90Ms", seq.value(90)), ("P99Ms", seq.value(99)),
                ("MaxMs", seq.value(100)), ("AppliesPerSecond", rate.rounded()), ("LoadedP50Ms", load.value(50)),
                ("LoadedP99Ms", load.value(99)),
            ] {
                figures[target.key + name] = value
            }
        }
        print("apply of a \(replicas)-replica application over HTTPS: \(requests) in sequence from one client, then")
        print("\(concurrentRequests) from \(clients) concurrent clients")
        print("STORE                    p50 ms  p90 ms  p99 ms    |  applies/s  p50 ms  p99 ms")
        for (name, seq, load, rate, _) in rows {
            print(
                name.padding(toLength: 22, withPad: " ", startingAt: 0)
                    + [seq.ms(50), seq.ms(90), seq.ms(99)].map { $0.leftPadded(8) }.joined() + "    |"
                    + String(format: "%.0f", rate).leftPadded(11) + load.ms(50).leftPadded(8)
                    + load.ms(99).leftPadded(8))
        }
        if let sqlite = rows.first(where: { $0.0 == "sqlite" }) {
            for row in rows where row.0 != "sqlite" {
                let ratio = row.1.value(99) / max(0.01, sqlite.1.value(99))
                print("\(row.0): p99 \(String(format: "%.2f", ratio))× SQLite's (target ≤ 2×)")
            }
        }
        Report.json("api-apply", figures)
    }
}

extension String {
    /// Right-aligned in `width` columns.
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// Percentiles of a set of durations, in milliseconds.
struct Percentiles {
    let sorted: [Double]

    init(_ durations: [Duration]) { sorted = durations.map { $0.seconds * 1000 }.sorted() }

    /// The `p`th percentile (nearest rank); 100 is the maximum.
    func value(_ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return (sorted[max(0, min(sorted.count - 1, rank))] * 100).rounded() / 100
    }

    func ms(_ p: Double) -> String { String(format: "%.2f", value(p)) }
}

extension Duration {
    /// In seconds.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
