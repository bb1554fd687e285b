import TansiqModel

/// A node takes new instances only when Ready and not cordoned.
struct ReadinessFilter: StaticFilter {
    var code: PendingReason { .noMatchingNode }

    static let notReady = "not ready"
    static let cordoned = "cordoned"

    func reject(_ node: Int, _ constraints: StaticConstraints, _ state: ClusterState) -> String? {
        let n = state.nodes[node]
        if !n.ready { return Self.notReady }
        if n.cordoned { return Self.cordoned }
        return nil
    }
}
