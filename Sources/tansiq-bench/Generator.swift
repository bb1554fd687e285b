import TansiqModel
import TansiqScheduler

/// A synthetic data-centre: 3 datacentres × 3 zones × racks of 40; nodes of 16/32/64/96 cores
/// with 64–512 GiB; 8 ministries in one cohort whose quotas sum to the cluster; instance sizes
/// skewed small (most ≤ 1 core, a few of 8–16 cores, as in public cluster traces), some with a
/// node selector, some spread over zones, a share of `batch`.
struct Generator {
    var nodes: Int
    var instances: Int
    var seed: UInt64

    func scenario() -> Scenario {
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
        let totalCPU = nodeList.reduce(0) { $0 + $1.cpuMillis! }
        let totalMemory = nodeList.reduce(0) { $0 + $1.memoryBytes! }
        let totalStorage = nodeList.reduce(0) { $0 + $1.storageBytes! }
        let shares: [Int64] = [20, 15, 15, 10, 10, 10, 10, 10]
        let ministries = shares.enumerated().map { index, share in
            Scenario.Ministry(
                name: "ministry-\(index + 1)",
                quota: Scenario.Vector(
                    cpuMillis: totalCPU * share / 100, memoryBytes: totalMemory / 100 * share,
                    storageBytes: totalStorage / 100 * share, instances: Int64(nodes) * 250 * share / 100),
                cohort: "national", weight: 1)
        }
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
