import Foundation
import Hummingbird
import TansiqModel

/// `GET /v1/capacity`: allocatable, allocated and free capacity, in all and by datacentre and zone.
public struct CapacityReport: Sendable, Codable, Equatable {
    /// One datacentre and zone.
    public struct Domain: Sendable, Codable, Equatable {
        public var datacentre: String
        public var zone: String
        public var nodes: Int
        public var allocatable: Resources
        public var allocated: Resources
        public var free: Resources
    }

    /// Totals over Ready nodes.
    public struct Total: Sendable, Codable, Equatable {
        public var nodes: Int
        public var allocatable: Resources
        public var allocated: Resources
        public var free: Resources
    }

    public var total: Total
    public var items: [Domain]
}

extension Routes {
    func registerQuotas(_ table: inout RouteTable) {
        table.add(.get, "/v1/quotas") { _, _, caller in
            try API.json(await cluster.current.quotaReport(for: caller, now: now()))
        }
        table.add(.get, "/v1/capacity") { _, _, caller in
            try require(Access.canReadCluster(caller), caller, "read cluster capacity")
            // Nodes join through the agent protocol; until one has, the cluster has no capacity.
            let registry = await cluster.current
            let report = CapacityReport(
                total: .init(nodes: 0, allocatable: registry.allocatable, allocated: .zero, free: registry.allocatable),
                items: [])
            return try API.json(report)
        }
    }
}
