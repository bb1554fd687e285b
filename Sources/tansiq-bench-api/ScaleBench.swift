import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel
import TansiqTestSupport

/// `scale`: end-to-end placement at data-centre scale — simulated nodes over mutual TLS, each
/// holding its assignments' long poll and reporting its status, and a stream of large applies.
struct ScaleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Placements/s end to end, the apply latency as the cluster fills, and the controller's memory.",
        discussion: """
            Starts a controller, joins --nodes simulated nodes over mutual TLS (each its own key and certificate,
            4 cpu, 8Gi and 50 slots), each holding its assignments' long poll and reporting its status every
            --report-interval seconds, both on one connection (HTTP/2, as the agent does). Then applies --applications
            applications of --replicas instances (100m, 64Mi), --batch applications per apply, one apply after
            another without waiting for placement, and times from the first apply until every instance is
            assigned (the latest assignedAt the controller recorded). Last, once all are placed, one more apply
            of a --batch of applications is timed. Prints the apply latencies (the first, at an empty cluster, and
            the last, at a full one), placements/s end to end, and the controller's VmRSS at the end.
            """)

    @Option(help: "Simulated nodes.") var nodes: Int = 10_000
    @Option(help: "Applications in all.") var applications: Int = 1_000
    @Option(help: "Instances of each.") var replicas: Int = 100
    @Option(help: "Applications per apply.") var batch: Int = 50
    @Option(name: .customLong("report-interval"), help: "Seconds between a node's statuses.")
    var reportInterval: Double = 30
    @Option(name: .customLong("long-polls"), help: "Whether each node holds its assignments' long poll.")
    var longPolls: Bool = true
    @Option(
        help: ArgumentHelp(
            "Seconds between the nodes' first long polls and the first apply; past 3 s, the controller's RSS, its open "
                + "long polls and the statuses it has had are printed every 5 s (past 60 s, after the controller's first "
                + "return of free memory to the system)."))
    var settle: Double = 3
    @Option(
        name: .customLong("poll-ramp"),
        help:
            "Seconds over which the nodes' first long polls are spread (0: all at once, as after a controller's restart)."
    )
    var pollRamp: Double = 0

    func validate() throws {
        guard nodes >= 1, applications >= 1, replicas >= 1, batch >= 1, reportInterval > 0, settle >= 0, pollRamp >= 0
        else {
            throw ValidationError(
                "need nodes, applications, replicas, batch ≥ 1, a positive report interval, a settle time and a poll ramp ≥ 0"
            )
        }
        guard nodes * 50 >= (applications + batch) * replicas, nodes * 4000 >= (applications + batch) * replicas * 100
        else { throw ValidationError("the nodes (4 cpu, 50 slots each) cannot hold every instance") }
    }

    /// The sum of a metric's samples (every label set) in a Prometheus text exposition.
    static func metric(_ name: String, in text: String) -> Int {
        Int(
            text.split(separator: "\n").reduce(0.0) { sum, line in
                guard line.hasPrefix(name + " ") || line.hasPrefix(name + "{"),
                    let value = line.split(separator: " ").last.flatMap({ Double($0) })
                else { return sum }
                return sum + value
            })
    }

    /// Applications `range` in one apply body.
    func body(_ range: Range<Int>) -> String {
        range.map { BenchWorkload.application("app-\($0)", replicas: replicas) }.joined(separator: "\n---\n")
    }

    func run() async throws {
        let grace = max(120, Int(reportInterval * 4))
        try await LiveController.with(arguments: ["--grace-period", "\(grace)s", "--log-level", "warning"]) {
            live in
            guard let pid = live.pid else { throw LiveError.failed("the controller is not running") }
            let joinStart = ContinuousClock.now
            let fleet = try await BenchWorkload.fleet(live, count: nodes)
            for node in fleet { _ = try await node.reportAssigned(labels: ["zone": BenchWorkload.zone(of: node)]) }
            print(
                "\(nodes) nodes joined and reported in \(String(format: "%.1f", (ContinuousClock.now - joinStart).seconds)) s; "
                    + "controller RSS \(AgentBench.rss(pid) >> 20) MiB")
            let interval = Duration.milliseconds(Int64(reportInterval * 1000))
            var tasks: [Task<Void, Never>] = []
            let polls = Locked(0)
            for (index, node) in fleet.enumerated() {
                tasks.append(
                    Task {
                        try? await Task.sleep(for: interval * (Double(index) / Double(nodes)))
                        while !Task.isCancelled {
                            _ = try? await node.reportAssigned(labels: ["zone": BenchWorkload.zone(of: node)])
                            try? await Task.sleep(for: interval)
                        }
                    })
                guard longPolls else { continue }
                tasks.append(
                    Task {
                        var after: Int64 = 0
                        try? await Task.sleep(
                            for: .milliseconds(Int64(pollRamp * 1000 * Double(index) / Double(nodes))))
                        while !Task.isCancelled {
                            guard
                                let reply = try? await node.call(
                                    .GET, "/v1/agent/nodes/\(node.name)/assignments?after=\(after)&wait=55"),
                                reply.status == 200,
                                let version = try? WireJSON.decoder().decode(
                                    AgentProtocol.Assignments.self, from: Data(reply.body.utf8)
                                ).resourceVersion
                            else {
                                try? await Task.sleep(for: .seconds(1))
                                continue
                            }
                            if Int64(version) != after { polls.withLock { $0 += 1 } }
                            after = Int64(version)
                        }
                    })
            }
            try await Task.sleep(for: .milliseconds(Int64(min(3, settle) * 1000)))
            if settle > 3 {
                // Every 5 s, what the controller holds and how many polls and statuses it has had.
                var waited = 3.0
                while true {
                    let metrics = try await live.call(.GET, "/metrics", token: live.operatorToken).body
                    print(
                        "after \(Int(waited)) s: controller RSS \(AgentBench.rss(pid) >> 20) MiB, "
                            + "long polls open \(Self.metric("tansiq_agent_long_polls_open", in: metrics)), "
                            + "statuses \(Self.metric("tansiq_agent_status_updates_total", in: metrics))")
                    guard waited < settle else { break }
                    let step = min(5, settle - waited)
                    try await Task.sleep(for: .milliseconds(Int64(step * 1000)))
                    waited += step
                }
            }
            _ = try await live.call(
                .POST, "/v1/apply", token: live.operatorToken, body: BenchWorkload.ministry,
                contentType: "application/yaml")
            let rssBefore = AgentBench.rss(pid)

            // The stream of applies, each timed; placement runs behind them.
            let wallStart = Date()
            let cpuStart = Self.cpuSeconds(pid)
            var applyTimes: [Duration] = []
            for start in stride(from: 0, to: applications, by: batch) {
                applyTimes.append(try await Self.apply(live, body(start..<min(applications, start + batch))))
            }
            let total = applications * replicas
            guard
                try await Self.allAssigned(
                    live, total: total, last: "app-\(applications - 1)", timeout: .seconds(600))
            else {
                throw LiveError.failed("not every instance was assigned within 600 s")
            }
            let cpu = Self.cpuSeconds(pid) - cpuStart
            let endToEnd = try await Self.latestAssignment(live).timeIntervalSince(wallStart)
            let rssFull = AgentBench.rss(pid)
            // One more apply into the full cluster.
            let last = try await Self.apply(live, body(applications..<(applications + batch)))
            guard
                try await Self.allAssigned(
                    live, total: total + batch * replicas, last: "app-\(applications + batch - 1)",
                    timeout: .seconds(120))
            else {
                throw LiveError.failed("the last apply was not assigned within 120 s")
            }
            let rssEnd = AgentBench.rss(pid)
            for task in tasks { task.cancel() }
            for node in fleet { await node.shutdown() }

            let applies = Percentiles(applyTimes)
            let rate = Double(total) / endToEnd
            print("\(applications) applications × \(replicas) instances in applies of \(batch) applications:")
            print(
                "  first apply → every instance assigned: \(String(format: "%.2f", endToEnd)) s, "
                    + "\(Int(rate)) placements/s end to end; the controller used \(String(format: "%.2f", cpu)) s of CPU "
                    + "until the bench saw them all")
            print(
                "  apply of \(batch * replicas) instances: first (empty cluster) \(Percentiles([applyTimes[0]]).ms(50)) ms, "
                    + "p50 \(applies.ms(50)) ms, p99 \(applies.ms(99)) ms, at \(total) placed \(Percentiles([last]).ms(50)) ms"
            )
            print(
                "  controller RSS: \(rssBefore >> 20) MiB with the nodes, \(rssFull >> 20) MiB at \(total) instances, "
                    + "\(rssEnd >> 20) MiB at the end; assignment answers that changed: \(polls.withLock { $0 })")
            Report.json(
                "scale",
                [
                    "nodes": Double(nodes), "instances": Double(total), "seconds": endToEnd,
                    "placementsPerSecond": rate, "firstApplyMs": Double(Percentiles([applyTimes[0]]).value(50)),
                    "applyP99Ms": Double(applies.value(99)), "fullApplyMs": Double(Percentiles([last]).value(50)),
                    "rssWithNodesBytes": Double(rssBefore), "rssFullBytes": Double(rssFull),
                    "rssEndBytes": Double(rssEnd), "controllerCPUSeconds": cpu,
                ])
        }
    }

    static func apply(_ live: LiveController, _ body: String) async throws -> Duration {
        let start = ContinuousClock.now
        let reply = try await live.call(
            .POST, "/v1/apply", token: live.operatorToken, body: body, contentType: "application/yaml")
        guard reply.status == 200 else { throw LiveError.failed("apply: \(reply.status) \(reply.body.prefix(500))") }
        return ContinuousClock.now - start
    }

    /// Polls (every 250 ms) until `total` instances exist and none is Pending: first the last
    /// application's pending instances (placement goes oldest first, and a poll of every pending
    /// instance would cost the controller more than what it measures), then all of them.
    static func allAssigned(
        _ live: LiveController, total: Int, last application: String, timeout: Duration
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let lastPending = try await live.call(
                .GET, "/v1/instances?ministry=bench&application=\(application)&phase=Pending",
                token: live.operatorToken)
            if lastPending.status == 200, lastPending.items.isEmpty {
                let pending = try await live.call(
                    .GET, "/v1/instances?ministry=bench&phase=Pending", token: live.operatorToken)
                if pending.status == 200, pending.items.isEmpty {
                    let all = try await live.typed(
                        .GET, "/v1/instances?ministry=bench", as: ItemList<Instance>.self
                    ).items
                    if all.count >= total && all.allSatisfy({ $0.node != nil }) { return true }
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    /// The controller's CPU time (user and system) so far, from /proc.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based, in clock ticks).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The latest time the controller assigned an instance.
    static func latestAssignment(_ live: LiveController) async throws -> Date {
        let all = try await live.typed(.GET, "/v1/instances?ministry=bench", as: ItemList<Instance>.self).items
        return all.compactMap(\.assignedAt).max() ?? .distantPast
    }
}
