import TansiqModel

/// `placement.datacentres`: the node's `datacentre` label must be one of them (empty: any).
struct DatacentreFilter: StaticFilter {
    var code: PendingReason { .noMatchingNode }

    func reject(_ node: Int, _ constraints: StaticConstraints, _ state: ClusterState) -> String? {
        guard !constraints.datacentres.isEmpty else { return nil }
        if let dc = state.nodes[node].labels["datacentre"], constraints.datacentres.contains(dc) { return nil }
        return "not in datacentre \(constraints.datacentres.joined(separator: " or "))"
    }
}
