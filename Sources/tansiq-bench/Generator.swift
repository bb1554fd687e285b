import Foundation
import TansiqModel
import TansiqScheduler

/// A synthetic data-centre, in one of two mixes.
///
/// `datacentre`: 3 datacentres × 3 zones × racks of 40; nodes of 16/32/64/96 cores with 64–512 GiB;
/// 8 ministries in one cohort whose quotas sum to the cluster; instance sizes skewed small (most ≤ 1
/// core, a few of 8–16 cores, as in public cluster traces), some with a node selector, some spread
/// over zones, a share of `batch`.
///
/// `trace-like`: the shape of a public production trace — identical nodes of 96 cores and 512 GiB
/// (no `maxInstances`: unlimited), most instances of 0.5–1 core and 1–3 GiB with a long tail to 7
/// cores and 26 GiB, replicas per workload heavy-tailed from 1 to 25,000 (about 45 on average), no
/// placement constraints; the same 8 ministries in one cohort, a fifth of the workloads `batch`.
struct Generator {
    enum Mix: String, CaseIterable {
        case datacentre
        case traceLike = "trace-like"

        var defaultNodes: Int { self == .datacentre ? 1000 : 26_000 }
        var defaultInstances: Int { self == .datacentre ? 10_000 : 3_000_000 }
    }

    var nodes: Int
    var instances: Int
    var seed: UInt64
    var mix: Mix = .datacentre

    func scenario() -> Scenario {
        mix == .datacentre ? datacentre() : traceLike()
    }

    /// 8 ministries in one cohort whose quotas split the nodes' capacity 20:15:15:10:10:10:10:10.
    static func ministries(_ nodeList: [Scenario.Node]) -> [Scenario.Ministry] {
        let totalCPU = nodeList.reduce(0) { $0 + ($1.cpuMillis ?? 0) }
        let totalMemory = nodeList.reduce(0) { $0 + ($1.memoryBytes ?? 0) }
        let totalStorage = nodeList.reduce(0) { $0 + ($1.storageBytes ?? 0) }
        let slots = nodeList.reduce(0) { $0 + ($1.maxInstances ?? 250) }
        let shares: [Int64] = [20, 15, 15, 10, 10, 10, 10, 10]
        return shares.enumerated().map { index, share in
            Scenario.Ministry(
                name: "ministry-\(index + 1)",
                quota: Scenario.Vector(
                    cpuMillis: totalCPU * share / 100, memoryBytes: totalMemory / 100 * share,
                    storageBytes: totalStorage / 100 * share, instances: slots * share / 100),
                cohort: "national", weight: 1)
        }
    }

    func traceLike() -> Scenario {
        var rng = SeededRandom(seed: seed)
        let gib: Int64 = 1 << 30
        let nodeList = (0..<nodes).map { i in
            Scenario.Node(
                name: "node-\(i)", cpuMillis: 96_000, memoryBytes: 512 * gib, storageBytes: 2048 * gib,
                maxInstances: nil, labels: ["zone": "zone-\(i % 3)"])
        }
        /// A number between `low` and `high`, uniform in its logarithm.
        func logUniform(_ low: Double, _ high: Double, _ rng: inout SeededRandom) -> Int {
            let u = Double(rng.next() >> 11) / Double(1 << 53)
            return Int((low * pow(high / low, u)).rounded(.down))
        }
        var workloads: [Scenario.Workload] = []
        var total = 0
        while total < instances {
            let tail = rng.below(10_000)
            let replicas: Int
            switch tail {
            case ..<7_000: replicas = logUniform(1, 10, &rng)
            case ..<9_790: replicas = logUniform(10, 200, &rng)
            case ..<9_990: replicas = logUniform(200, 2_000, &rng)
            default: replicas = logUniform(2_000, 25_000, &rng)
            }
            let size = rng.below(100)
            let (cpu, memory): (Int64, Int64)
            switch size {
            case ..<80: (cpu, memory) = (rng.pick([500, 500, 750, 1000]), rng.pick([4, 6, 8, 10, 12]) * gib / 4)
            case ..<95: (cpu, memory) = (rng.pick([100, 250]), rng.pick([256, 512]) << 20)
            case ..<99: (cpu, memory) = (rng.pick([1500, 2000, 3000]), rng.pick([4, 6, 8]) * gib)
            default: (cpu, memory) = (rng.pick([4000, 5500, 7000]), rng.pick([12, 16, 20, 26]) * gib)
            }
            workloads.append(
                Scenario.Workload(
                    name: "app-\(workloads.count)", ministry: "ministry-\(rng.below(8) + 1)",
                    replicas: min(instances - total, max(replicas, 1)), cpuMillis: cpu, memoryBytes: memory,
                    storageBytes: nil, priority: rng.chance(0.2) ? "batch" : "standard", spread: nil, nodeSelector: nil)
            )
            total += workloads.last!.replicas!
        }
        return Scenario(nodes: nodeList, ministries: Self.ministries(nodeList), workloads: workloads)
    }

    func datacentre() -> Scenario {
        var rng = SeededRandom(seed: seed)
        let gib: Int64 = 1 << 30
        var nodeList: [Scenario.Node] = []
        for i in 0..<nodes {
            let cores = rng.pick([16, 32, 32, 64, 64, 96] as [Int64])
            let memory = min(max(cores * rng.pick([4, 4, 8] as [Int64]), 64), 512) * gib
            let dc = i % 3
            let zone = (i / 3) % 3
            let rack = i / 360
            var labels = [
                "datacentre": "dc-\(dc + 1)", "zone": "dc-\(dc + 1)-\(["a", "b", "c"][zone])", "rack": "rack-\(rack)",
            ]
            if rng.chance(0.3) { labels["disk"] = "ssd" }
            nodeList.append(
                Scenario.Node(
                    name: "node-\(i)", cpuMillis: cores * 1000, memoryBytes: memory, storageBytes: 2048 * gib,
                    maxInstances: 250, labels: labels))
        }
        let ministries = Self.ministries(nodeList)
        var workloads: [Scenario.Workload] = []
        var total = 0
        while total < instances {
            let replicas = min(instances - total, rng.pick([1, 1, 2, 3, 3, 5, 10, 20, 50]))
            let size = rng.below(100)
            let (cpu, memory): (Int64, Int64)
            if size < 70 {
                cpu = rng.pick([100, 250, 250, 500, 500, 1000])
                memory = rng.pick([256, 512, 512, 1024, 2048]) << 20
            } else if size < 95 {
                cpu = rng.pick([2000, 4000])
                memory = rng.pick([4, 8]) * gib
            } else {
                cpu = rng.pick([8000, 16000])
                memory = rng.pick([16, 32, 64]) * gib
            }
            workloads.append(
                Scenario.Workload(
                    name: "app-\(workloads.count)", ministry: "ministry-\(rng.below(8) + 1)", replicas: replicas,
                    cpuMillis: cpu, memoryBytes: memory, storageBytes: rng.pick([0, 1, 10]) * gib,
                    priority: rng.chance(0.2) ? "batch" : rng.pick(["standard", "standard", "high"]),
                    spread: rng.chance(0.2) ? "zone" : nil, nodeSelector: rng.chance(0.15) ? ["disk": "ssd"] : nil))
            total += replicas
        }
        return Scenario(nodes: nodeList, ministries: ministries, workloads: workloads)
    }
}
