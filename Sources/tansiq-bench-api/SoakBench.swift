import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel
import TansiqScheduler
import TansiqTestSupport

/// `soak`: a controller left to churn — rollouts, scaling, nodes failing and returning — while its
/// resident memory and store size are sampled: both must level off.
struct SoakBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Churn a controller for a set time and sample its resident memory and store size.",
        discussion: """
            Starts a controller with --retention, --audit-archive-after, --usage-detail, --max-events and
            --grace-period,
            joins --nodes simulated nodes over
            mTLS that report every --report-interval seconds, applies --applications applications, then
            until --minutes have passed: rolls one out (a new generation replaces its instances), scales
            one to a random size, or silences a node past the grace period and brings it back (its
            instances are lost and replaced), one change every --pace seconds. Every --sample seconds it
            reads the controller's VmRSS from /proc and the size of its SQLite file and WAL, and at the
            end prints the least-squares slope of each over the second half of the run, in % of its
            mean per hour.
            """)

    @Option(help: "Simulated nodes.") var nodes: Int = 2000
    @Option(help: "Minutes of churn.") var minutes: Double = 10
    @Option(help: "Applications churned.") var applications: Int = 40
    @Option(help: "Seconds between two changes.") var pace: Double = 1
    @Option(help: "Seconds between two samples.") var sample: Double = 10
    @Option(name: .customLong("report-interval"), help: "Seconds between a node's statuses.")
    var reportInterval: Double = 2
    @Option(name: .customLong("grace-period"), help: "The controller's grace period, in seconds.")
    var gracePeriod: Int = 5
    @Option(help: "The controller's --retention, in seconds: how long terminated instances are kept.")
    var retention: Int = 60
    @Option(
        name: .customLong("audit-archive-after"),
        help: "The controller's --audit-archive-after, in seconds: how long audit records stay in the store.")
    var auditArchiveAfter: Int = 120
    @Option(
        name: .customLong("usage-detail"),
        help: "The controller's --usage-detail, in seconds: how long usage intervals are kept one by one.")
    var usageDetail: Int = 120
    @Option(
        name: .customLong("max-events"),
        help: "The controller's --max-events: how many events the store keeps (its default is 100000).")
    var maxEvents: Int = 20_000
    @Option(help: "Seed of the churn's choices.") var seed: UInt64 = 1

    func validate() throws {
        guard nodes >= 4, applications >= 1, minutes > 0, pace > 0, sample > 0, gracePeriod >= 1, retention >= 1,
            auditArchiveAfter >= 1, usageDetail >= 1,
            reportInterval > 0, reportInterval < Double(gracePeriod)
        else {
            throw ValidationError("need nodes ≥ 4, positive times, and a report interval shorter than the grace period")
        }
    }

    /// An application of the soak: `replicas` of 100m and 64Mi, `revision` in its environment.
    static func application(_ name: String, replicas: Int, revision: Int) -> String {
        BenchWorkload.application(name, replicas: replicas, env: ["REVISION": String(revision)])
    }

    struct Sample {
        var seconds: Double
        var rss: Double
        var store: Double
        /// Of `store`, the WAL.
        var wal: Double
        var instances: Int
    }

    func run() async throws {
        try await LiveController.with(
            arguments: [
                "--grace-period", "\(gracePeriod)s", "--retention", "\(retention)s", "--audit-archive-after",
                "\(auditArchiveAfter)s", "--usage-detail", "\(usageDetail)s", "--max-events", "\(maxEvents)",
            ]
        ) { live in
            guard let pid = live.pid else { throw LiveError.failed("the controller is not running") }
            let fleet = try await BenchWorkload.fleet(live, count: nodes)
            let interval = Duration.milliseconds(Int64(reportInterval * 1000))
            let silenced = Silenced()
            var reporters: [Task<Void, Never>] = []
            for (index, node) in fleet.enumerated() {
                reporters.append(
                    Task {
                        try? await Task.sleep(for: interval * (Double(index) / Double(nodes)))
                        while !Task.isCancelled {
                            if await !silenced.contains(node.name) {
                                _ = try? await node.reportAssigned(labels: ["zone": BenchWorkload.zone(of: node)])
                            }
                            try? await Task.sleep(for: interval)
                        }
                    })
            }
            try await Task.sleep(for: interval * 2)
            _ = try await live.call(
                .POST, "/v1/apply", token: live.operatorToken, body: BenchWorkload.ministry,
                contentType: "application/yaml")
            var generator = SeededRandom(seed: seed)
            var replicas = [Int](repeating: 20, count: applications)
            var revisions = [Int](repeating: 0, count: applications)
            for index in 0..<applications {
                try await apply(live, index, replicas[index], revisions[index])
            }

            let start = ContinuousClock.now
            let end = start + .milliseconds(Int64(minutes * 60_000))
            var samples: [Sample] = []
            var nextSample = start
            var counts = (rollouts: 0, scales: 0, failures: 0)
            while ContinuousClock.now < end {
                if ContinuousClock.now >= nextSample {
                    let instances = try await live.typed(.GET, "/v1/instances", as: ItemList<Instance>.self).items.count
                    samples.append(
                        Sample(
                            seconds: (ContinuousClock.now - start).seconds, rss: Double(AgentBench.rss(pid)),
                            store: Double(Self.storeBytes(live.dataDir)),
                            wal: Double(Self.storeBytes(live.dataDir, files: ["tansiq.db-wal"])),
                            instances: instances))
                    nextSample = nextSample + .milliseconds(Int64(sample * 1000))
                }
                let index = generator.below(applications)
                switch generator.below(10) {
                case 0..<4:
                    revisions[index] += 1
                    counts.rollouts += 1
                case 4..<8:
                    replicas[index] = 5 + generator.below(36)
                    counts.scales += 1
                default:
                    let node = generator.pick(fleet).name
                    counts.failures += 1
                    await silenced.insert(node)
                    Task {
                        // Past the grace period its instances are lost; then it comes back.
                        try? await Task.sleep(for: .seconds(gracePeriod + 3))
                        await silenced.remove(node)
                    }
                }
                try await apply(live, index, replicas[index], revisions[index])
                try await Task.sleep(for: .milliseconds(Int64(pace * 1000)))
            }
            for reporter in reporters { reporter.cancel() }
            for node in fleet { await node.shutdown() }

            let half = Array(samples.suffix(max(2, samples.count / 2)))
            let rss = Trend(half.map { ($0.seconds, $0.rss) })
            let store = Trend(half.map { ($0.seconds, $0.store) })
            let mib = 1024.0 * 1024.0
            print(
                "\(nodes) nodes over mTLS, \(applications) applications, \(String(format: "%.1f", minutes)) min of "
                    + "churn: \(counts.rollouts) rollouts, \(counts.scales) scalings, \(counts.failures) node failures; "
                    + "retention \(retention) s, audit archived after \(auditArchiveAfter) s, "
                    + "usage folded after \(usageDetail) s, \(maxEvents) events kept")
            print("seconds  rss MiB  store MiB  of it WAL  instances")
            for s in samples {
                print(
                    String(
                        format: "%7.0f  %7.1f  %9.3f  %9.3f  %9d", s.seconds, s.rss / mib, s.store / mib, s.wal / mib,
                        s.instances))
            }
            print(
                String(
                    format: "second half: rss %.1f MiB mean, slope %+.2f %%/h; store %.1f MiB mean, slope %+.2f %%/h",
                    rss.mean / mib, rss.percentPerHour, store.mean / mib, store.percentPerHour))
            print(
                String(
                    format: "audit archive (outside the store): %.1f MiB", Double(Self.archiveBytes(live.dataDir)) / mib
                ))
            Report.json(
                "soak",
                [
                    "nodes": Double(nodes), "applications": Double(applications), "minutes": minutes,
                    "rollouts": Double(counts.rollouts), "scalings": Double(counts.scales),
                    "nodeFailures": Double(counts.failures), "retentionSeconds": Double(retention),
                    "auditArchiveAfterSeconds": Double(auditArchiveAfter), "usageDetailSeconds": Double(usageDetail),
                    "auditArchiveMiB": Double(Self.archiveBytes(live.dataDir)) / mib,
                    "rssMeanMiB": rss.mean / mib, "rssSlopePercentPerHour": rss.percentPerHour,
                    "storeMeanMiB": store.mean / mib, "storeSlopePercentPerHour": store.percentPerHour,
                    "samples": Double(samples.count),
                ])
        }
    }

    func apply(_ live: LiveController, _ index: Int, _ replicas: Int, _ revision: Int) async throws {
        let reply = try await live.call(
            .POST, "/v1/apply", token: live.operatorToken,
            body: Self.application("soak-\(index)", replicas: replicas, revision: revision),
            contentType: "application/yaml")
        guard reply.status == 200 else { throw LiveError.failed("apply: \(reply.status) \(reply.body)") }
    }

    /// The audit archive's files (the log moved out of the store: it grows with the log, by design).
    static func archiveBytes(_ dataDir: String) -> Int {
        let directory = dataDir + "/audit-archive"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.reduce(0) { total, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size]) as? Int
            return total + (size ?? 0)
        }
    }

    /// The SQLite file and its WAL (or `files` of the data directory).
    static func storeBytes(_ dataDir: String, files: [String] = ["tansiq.db", "tansiq.db-wal"]) -> Int {
        files.reduce(0) { total, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: dataDir + "/" + name)[.size]) as? Int
            return total + (size ?? 0)
        }
    }
}

/// The nodes the soak keeps silent for now.
actor Silenced {
    private var names: Set<String> = []
    func contains(_ name: String) -> Bool { names.contains(name) }
    func insert(_ name: String) { names.insert(name) }
    func remove(_ name: String) { names.remove(name) }
}

/// A least-squares line through samples: its slope as a share of the mean per hour.
struct Trend {
    var mean: Double
    var slopePerSecond: Double

    init(_ points: [(Double, Double)]) {
        let n = Double(points.count)
        let mx = points.map(\.0).reduce(0, +) / n
        let my = points.map(\.1).reduce(0, +) / n
        let sxx = points.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
        let sxy = points.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +)
        mean = my
        slopePerSecond = sxx > 0 ? sxy / sxx : 0
    }

    var percentPerHour: Double { mean > 0 ? slopePerSecond * 3600 / mean * 100 : 0 }
}
