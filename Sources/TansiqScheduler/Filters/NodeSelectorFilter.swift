import TansiqModel

/// `placement.nodeSelector`: every label must match exactly.
struct NodeSelectorFilter: StaticFilter {
    var code: PendingReason { .noMatchingNode }

    func reject(_ node: Int, _ constraints: StaticConstraints, _ state: ClusterState) -> String? {
        let labels = state.nodes[node].labels
        for (key, value) in constraints.nodeSelector.sorted(by: { $0.key < $1.key }) where labels[key] != value {
            return "node selector \(key)=\(value) not matched"
        }
        return nil
    }
}
