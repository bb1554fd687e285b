import TansiqModel

/// Every taint of the node must be tolerated (both effects keep new instances off).
struct TaintFilter: StaticFilter {
    var code: PendingReason { .noMatchingNode }

    func reject(_ node: Int, _ constraints: StaticConstraints, _ state: ClusterState) -> String? {
        for taint in state.nodes[node].taints where !constraints.tolerations.contains(where: { $0.tolerates(taint) }) {
            let value = taint.value.isEmpty ? "" : "=\(taint.value)"
            return "untolerated taint \(taint.key)\(value):\(taint.effect.rawValue)"
        }
        return nil
    }
}
