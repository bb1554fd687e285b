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
        abstract: "Benchmarks of the controller's API over HTTPS; each prints a summary and, last, one JSON line.",
        subcommands: [ApplyBench.self, StatusBench.self, LoopsBench.self, AgentBench.self, SoakBench.self]
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
            """)

    @Option(help: "Sequential applies measured for latency.")
    var requests: Int = 300

    @Option(help: "Concurrent clients for the throughput run.")
    var clients: Int = 8

    @Option(name: .customLong("concurrent-requests"), help: "Applies in the throughput run (all clients).")
    var concurrentRequests: Int = 800

    @Option(help: "Replicas of each application.")
    var replicas: Int = 10

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
        try await LiveController.with { live in
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
            print("apply of a \(replicas)-replica application over HTTPS, one client, \(requests) applies:")
            print("  p50 \(seq.ms(50)) ms  p90 \(seq.ms(90)) ms  p99 \(seq.ms(99)) ms  max \(seq.ms(100)) ms")
            print(
                "\(clients) concurrent clients, \(loaded.count) applies in \(String(format: "%.2f", wall.seconds)) s:")
            print("  \(String(format: "%.0f", rate)) applies/s  p50 \(load.ms(50)) ms  p99 \(load.ms(99)) ms")
            let figures: [String: Double] = [
                "replicas": Double(replicas), "requests": Double(requests), "p50Ms": Double(seq.value(50)),
                "p90Ms": Double(seq.value(90)), "p99Ms": Double(seq.value(99)), "maxMs": Double(seq.value(100)),
                "clients": Double(clients), "concurrentApplies": Double(loaded.count),
                "appliesPerSecond": Double(rate.rounded()), "loadedP50Ms": Double(load.value(50)),
                "loadedP99Ms": Double(load.value(99)),
            ]
            Report.json("api-apply", figures)
        }
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
