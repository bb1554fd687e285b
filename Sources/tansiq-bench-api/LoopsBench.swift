import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel
import TansiqTestSupport

/// `loops`: how fast the control loops converge, with simulated nodes over real mTLS.
struct LoopsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loops",
        abstract: "Apply-to-assigned time for large applications, and last-status-to-replaced time for failed nodes.",
        discussion: """
            Starts a controller with --grace-period, joins --nodes simulated nodes over mTLS that report
            every --report-interval seconds, then applies --applications applications of --replicas
            replicas one after another, timing each from its apply to all its instances assigned; then
            silences --failures nodes that hold instances, one at a time, timing each from its last status
            to all its instances' replacements assigned.
            """)

    @Option(help: "Simulated nodes.")
    var nodes: Int = 2000

    @Option(name: .customLong("report-interval"), help: "Seconds between a node's statuses.")
    var reportInterval: Double = 2

    @Option(help: "Applications applied one after another.")
    var applications: Int = 20

    @Option(help: "Replicas of each application.")
    var replicas: Int = 100

    @Option(help: "Nodes silenced one after another.")
    var failures: Int = 5

    @Option(name: .customLong("grace-period"), help: "The controller's grace period, in seconds.")
    var gracePeriod: Int = 5

    func validate() throws {
        guard nodes >= 2, applications >= 1, replicas >= 1, failures >= 0, failures < nodes, gracePeriod >= 1,
            reportInterval > 0, reportInterval < Double(gracePeriod)
        else {
            throw ValidationError(
                "need nodes ≥ 2, failures < nodes, and a report interval shorter than the grace period")
        }
    }

    func application(_ name: String) -> String { BenchWorkload.application(name, replicas: replicas) }

    /// The instances of an application, as the operator sees them.
    static func instances(_ live: LiveController, _ app: String) async throws -> [Instance] {
        try await live.typed(.GET, "/v1/instances?ministry=bench&application=\(app)", as: ItemList<Instance>.self).items
    }

    /// Polls every 10 ms until `condition` holds (at most `timeout`); the time it first held.
    static func until(
        _ timeout: Duration, _ condition: () async throws -> Bool
    ) async throws -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return ContinuousClock.now }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func run() async throws {
        try await LiveController.with(arguments: ["--grace-period", "\(gracePeriod)s"]) { live in
            let fleet = try await BenchWorkload.fleet(live, count: nodes)
            let interval = Duration.milliseconds(Int64(reportInterval * 1000))
            var reporters: [String: Task<Void, Never>] = [:]
            for (index, node) in fleet.enumerated() {
                reporters[node.name] = Task {
                    try? await Task.sleep(for: interval * (Double(index) / Double(nodes)))
                    while !Task.isCancelled {
                        _ = try? await node.reportAssigned(labels: ["zone": BenchWorkload.zone(of: node)])
                        try? await Task.sleep(for: interval)
                    }
                }
            }
            try await Task.sleep(for: interval * 2)  // every node Ready
            _ = try await live.call(
                .POST, "/v1/apply", token: live.operatorToken, body: BenchWorkload.ministry,
                contentType: "application/yaml")

            var assignTimes: [Duration] = []
            for index in 0..<applications {
                let name = "app-\(index)"
                let start = ContinuousClock.now
                let reply = try await live.call(
                    .POST, "/v1/apply", token: live.operatorToken, body: application(name),
                    contentType: "application/yaml")
                guard reply.status == 200 else { throw LiveError.failed("apply: \(reply.body)") }
                guard
                    let done = try await Self.until(
                        .seconds(30),
                        {
                            let all = try await Self.instances(live, name)
                            return all.count == replicas && all.allSatisfy { $0.node != nil }
                        })
                else { throw LiveError.failed("\(name) was not assigned within 30 s") }
                assignTimes.append(done - start)
            }

            var replaceTimes: [Duration] = []
            var silenced: Set<String> = []
            for _ in 0..<failures {
                let placed = try await live.typed(.GET, "/v1/instances?ministry=bench", as: ItemList<Instance>.self)
                    .items
                guard
                    let victim = placed.compactMap(\.node).first(where: { !silenced.contains($0) }),
                    let reporter = reporters[victim]
                else { break }
                let held = Set(placed.filter { $0.node == victim }.map(\.id))
                reporter.cancel()
                await reporter.value
                silenced.insert(victim)
                // Its last status, sent now: the time runs from here.
                guard let node = fleet.first(where: { $0.name == victim }) else { break }
                _ = try await node.reportAssigned(labels: ["zone": BenchWorkload.zone(of: node)])
                let silentAt = ContinuousClock.now
                let total = applications * replicas
                guard
                    let done = try await Self.until(
                        .seconds(Int64(gracePeriod) + 30),
                        {
                            let all = try await live.typed(
                                .GET, "/v1/instances?ministry=bench", as: ItemList<Instance>.self
                            ).items
                            let active = all.filter { $0.phase != .lost }
                            return active.count == total && active.allSatisfy { $0.node != nil }
                                && all.filter { held.contains($0.id) }.allSatisfy { $0.phase == .lost }
                        })
                else { throw LiveError.failed("node \(victim)'s instances were not replaced") }
                replaceTimes.append(done - silentAt)
            }
            for reporter in reporters.values { reporter.cancel() }
            for node in fleet { await node.shutdown() }

            let assign = Percentiles(assignTimes)
            let replace = Percentiles(replaceTimes)
            print("\(nodes) nodes over mTLS reporting every \(reportInterval) s; grace period \(gracePeriod) s")
            print("apply → all \(replicas) instances assigned, \(applications) applications:")
            print("  p50 \(assign.ms(50)) ms  p99 \(assign.ms(99)) ms  max \(assign.ms(100)) ms")
            print("node silenced → all its instances replaced and assigned, \(replaceTimes.count) nodes:")
            print("  p50 \(replace.ms(50)) ms  p99 \(replace.ms(99)) ms  max \(replace.ms(100)) ms")
            let figures: [String: Double] = [
                "nodes": Double(nodes), "replicas": Double(replicas), "applications": Double(applications),
                "assignP50Ms": Double(assign.value(50)), "assignP99Ms": Double(assign.value(99)),
                "gracePeriodSeconds": Double(gracePeriod), "reportIntervalSeconds": Double(reportInterval),
                "failures": Double(replaceTimes.count), "replaceP50Ms": Double(replace.value(50)),
                "replaceP99Ms": Double(replace.value(99)),
            ]
            Report.json("loops", figures)
        }
    }
}
