import Foundation
import Hummingbird
import TansiqAPI
import TansiqModel

extension Routes {
    func registerSnapshot(_ table: inout RouteTable) {
        table.add(.get, "/v1/snapshot") { _, _, caller in
            try require(Access.canReadCluster(caller), caller, "read the cluster snapshot")
            let registry = await cluster.current
            let now = now()
            let ledger = registry.usageLedger(now: now)
            let nodes = registry.state.nodes.values.sorted { $0.name < $1.name }.map {
                cluster.heartbeats.view($0, in: registry, now: now)
            }
            // A ministry role reads its own terms, and of its cohort only the aggregate.
            let visible = ledger.terms.values.filter { Access.canRead(caller, ministry: $0.ministry) }
            let ministries = visible.sorted { $0.ministry < $1.ministry }.map { terms in
                ClusterSnapshot.QuotaTerms(
                    ministry: terms.ministry, quota: terms.quota, cohort: terms.cohort,
                    borrowingLimit: terms.borrowingLimit, lendingLimit: terms.lendingLimit, weight: terms.weight,
                    priorities: terms.priorities.sorted { $0.rank > $1.rank })
            }
            let cohorts = Set(visible.compactMap(\.cohort)).sorted().map {
                ClusterSnapshot.Cohort(name: $0, pool: ledger.pool($0), borrowed: ledger.borrowedTotal($0))
            }
            // Other ministries' instances count with their resources and node, nothing that names them.
            var hidden = 0
            let placed = Registry.oldestFirst(registry.state.instances.values.filter(Registry.isAssigned))
                .compactMap { instance -> ClusterSnapshot.Placed? in
                    guard let node = instance.node else { return nil }
                    let spec = registry.state.applications["\(instance.ministry)/\(instance.application)"]?.spec
                    let readable = Access.canRead(caller, ministry: instance.ministry)
                    if !readable { hidden += 1 }
                    guard readable else {
                        return ClusterSnapshot.Placed(
                            id: "hidden-\(hidden)", ministry: "-", application: "-", priority: instance.priority,
                            resources: instance.resources, node: node, guaranteed: instance.guaranteed,
                            placement: Placement(), fixedPorts: [])
                    }
                    return ClusterSnapshot.Placed(
                        id: instance.id, ministry: instance.ministry, application: instance.application,
                        priority: instance.priority, resources: instance.resources, node: node,
                        guaranteed: instance.guaranteed, placement: spec?.placement ?? Placement(),
                        fixedPorts: (spec?.ports ?? []).map(\.port).filter { $0 > 0 })
                }
            return try API.json(
                ClusterSnapshot(nodes: nodes, ministries: ministries, cohorts: cohorts, placed: placed))
        }
    }
}
