import Foundation
import Hummingbird
import TansiqAPI
import TansiqModel

extension CapacityReport {
    /// Totals and domains of Ready nodes, by the `datacentre` and `zone` labels (`-` when unset).
    init(_ nodes: [Node]) {
        var domains: [String: Domain] = [:]
        for node in nodes {
            let dc = node.labels["datacentre"] ?? "-"
            let zone = node.labels["zone"] ?? "-"
            var domain =
                domains["\(dc)/\(zone)"]
                ?? Domain(datacentre: dc, zone: zone, nodes: 0, allocatable: .zero, allocated: .zero, free: .zero)
            domain.nodes += 1
            domain.allocatable += node.allocatable
            domain.allocated += node.allocated
            domain.free = (domain.allocatable - domain.allocated).nonNegative
            domains["\(dc)/\(zone)"] = domain
        }
        let items = domains.values.sorted { ($0.datacentre, $0.zone) < ($1.datacentre, $1.zone) }
        let allocatable = items.reduce(Resources.zero) { $0 + $1.allocatable }
        let allocated = items.reduce(Resources.zero) { $0 + $1.allocated }
        self.init(
            total: Total(
                nodes: nodes.count, allocatable: allocatable, allocated: allocated,
                free: (allocatable - allocated).nonNegative),
            items: items)
    }
}

extension Routes {
    func registerQuotas(_ table: inout RouteTable) {
        table.add(.get, "/v1/quotas") { _, _, caller in
            try API.json(await cluster.current.quotaReport(for: caller, now: now()))
        }
        table.add(.get, "/v1/capacity") { _, _, caller in
            try require(Access.canReadCluster(caller), caller, "read cluster capacity")
            let registry = await cluster.current
            let now = now()
            let ready = registry.state.nodes.values.map {
                cluster.heartbeats.view($0, in: registry, now: now)
            }.filter { $0.phase == .ready }
            return try API.json(CapacityReport(ready))
        }
    }
}
