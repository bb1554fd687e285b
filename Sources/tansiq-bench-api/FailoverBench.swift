import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel
import TansiqTestSupport

/// `failover`: three controllers on PostgreSQL; the leader is killed with -9 and the time to the
/// first apply acknowledged by its successor is measured, with a fleet and its instances in the
/// store.
struct FailoverBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Time from kill -9 of the leader to the first apply acknowledged by the new leader.",
        discussion: """
            Starts three controllers on one PostgreSQL database (TANSIQ_TEST_POSTGRES names a server, else
            one is started from Debian's postgresql) with --lease-ttl; joins --nodes simulated nodes over
            mTLS through a follower, reporting every --report-interval seconds; applies --instances
            instances in applications of 1,000 and waits until all are assigned; then one client applies
            a small application every 20 ms through every controller in turn, the leader is killed with
            SIGKILL, and the time to the first apply acknowledged after it is reported, with the time the
            new leader's /readyz said so.
            """)

    @Option(help: "Simulated nodes.")
    var nodes: Int = 2000

    @Option(help: "Instances placed before the kill.")
    var instances: Int = 20000

    @Option(name: .customLong("lease-ttl"), help: "The controllers' lease, in seconds.")
    var leaseTTL: Int = 15

    @Option(name: .customLong("report-interval"), help: "Seconds between a node's statuses.")
    var reportInterval: Double = 5

    func validate() throws {
        guard nodes >= 1, instances >= 0, leaseTTL >= 1, reportInterval > 0 else {
            throw ValidationError("need nodes ≥ 1, instances ≥ 0, --lease-ttl ≥ 1 and a positive report interval")
        }
    }

    func run() async throws {
        let postgres = try await LivePostgres.shared.value
        let controllers = try await LiveController.cluster(
            count: 3, store: try await postgres.database(),
            arguments: ["--lease-ttl", "\(leaseTTL)s", "--grace-period", "60s", "--log-level", "notice"])
        do {
            try await measure(controllers)
        } catch {
            for controller in controllers { await controller.shutdown() }
            throw error
        }
        for controller in controllers { await controller.shutdown() }
    }

    func measure(_ controllers: [LiveController]) async throws {
        var leader = 0
        for (index, controller) in controllers.enumerated() where await controller.readiness()?.role == "leader" {
            leader = index
        }
        let entry = controllers[(leader + 1) % 3]
        let fleet = try await BenchWorkload.fleet(entry, count: nodes)
        let interval = Duration.milliseconds(Int64(reportInterval * 1000))
        let reporters = fleet.enumerated().map { index, node in
            Task {
                try? await Task.sleep(for: interval * (Double(index) / Double(nodes)))
                while !Task.isCancelled {
                    _ = try? await node.reportAssigned(labels: ["zone": BenchWorkload.zone(of: node)])
                    try? await Task.sleep(for: interval)
                }
            }
        }
        defer { for reporter in reporters { reporter.cancel() } }
        try await Task.sleep(for: interval * 2)
        _ = try await entry.call(
            .POST, "/v1/apply", token: entry.operatorToken, body: BenchWorkload.ministry,
            contentType: "application/yaml")
        var left = instances
        var index = 0
        while left > 0 {
            let replicas = min(1000, left)
            let reply = try await entry.call(
                .POST, "/v1/apply", token: entry.operatorToken,
                body: BenchWorkload.application("app-\(index)", replicas: replicas), contentType: "application/yaml")
            guard reply.status == 200 else { throw LiveError.failed("apply: \(reply.body)") }
            left -= replicas
            index += 1
        }
        guard
            try await LoopsBench.until(
                .seconds(300),
                {
                    try await entry.typed(.GET, "/v1/instances?phase=Pending", as: ItemList<Instance>.self).items
                        .isEmpty
                }) != nil
        else { throw LiveError.failed("the instances were not all assigned within 5 minutes") }

        let urls = controllers.map(\.baseURL)
        let client = try TansiqClient(
            servers: Array(urls[((leader + 1) % 3)...] + urls[..<((leader + 1) % 3)]),
            trust: .caFile(entry.dataDir + "/ca.crt"), token: entry.operatorToken)
        defer { Task { await client.shutdown() } }
        let acknowledged = Locked<[ContinuousClock.Instant]>([])
        let prober = Task {
            var n = 0
            while !Task.isCancelled {
                n += 1
                let reply = try? await client.send(
                    .POST, "/v1/apply", body: Data(BenchWorkload.application("probe-\(n)", replicas: 0).utf8),
                    contentType: "application/yaml", timeout: .seconds(10))
                if reply?.status == 200 { acknowledged.withLock { $0.append(ContinuousClock.now) } }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        try await Task.sleep(for: .seconds(2))
        let killedAt = ContinuousClock.now
        try await controllers[leader].stop(signal: SIGKILL)
        let survivors = [0, 1, 2].filter { $0 != leader }
        var readyAfter: Duration?
        let deadline = killedAt + .seconds(Int64(leaseTTL) + 60)
        while ContinuousClock.now < deadline {
            if readyAfter == nil {
                for index in survivors where await controllers[index].readiness()?.role == "leader" {
                    readyAfter = ContinuousClock.now - killedAt
                }
            }
            if acknowledged.withLock({ $0.contains { $0 > killedAt } }) && readyAfter != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        prober.cancel()
        _ = await prober.value
        guard let first = acknowledged.withLock({ $0.first { $0 > killedAt } }) else {
            throw LiveError.failed("no apply was acknowledged within \(leaseTTL + 60) s of the kill")
        }
        let failover = first - killedAt
        var newLeader = survivors[0]
        for index in survivors where await controllers[index].readiness()?.role == "leader" { newLeader = index }
        let lost = try await controllers[newLeader].typed(
            .GET, "/v1/instances?phase=Lost", as: ItemList<Instance>.self
        ).items.count
        for node in fleet { await node.shutdown() }
        // How long the new leader took to load the state and start its term, from its own log.
        let leading = controllers[newLeader].stderr.split(separator: "\n").last { $0.contains("leading") }
        let startSeconds =
            leading.flatMap { line in
                line.split(separator: " ").first { $0.hasPrefix("startSeconds=") }.map {
                    $0.dropFirst("startSeconds=".count)
                }
            }.flatMap { Double($0) } ?? -1

        let target = Double(leaseTTL) + 2
        print("3 controllers on PostgreSQL, lease-ttl \(leaseTTL) s; \(nodes) nodes over mTLS, \(instances) instances")
        print(
            "kill -9 of the leader → first apply acknowledged by the new leader: "
                + "\(String(format: "%.2f", failover.seconds)) s (target ≤ \(Int(target)) s: "
                + "\(failover.seconds <= target ? "met" : "NOT met")); /readyz said leader after "
                + "\(String(format: "%.2f", (readyAfter ?? .zero).seconds)) s (of which the new leader's load and start: "
                + "\(String(format: "%.2f", startSeconds)) s); instances lost: \(lost)")
        Report.json(
            "failover",
            [
                "nodes": Double(nodes), "instances": Double(instances), "leaseTTLSeconds": Double(leaseTTL),
                "failoverSeconds": (failover.seconds * 100).rounded() / 100,
                "readySeconds": ((readyAfter ?? .zero).seconds * 100).rounded() / 100, "lost": Double(lost),
                "startSeconds": startSeconds,
            ])
    }
}
