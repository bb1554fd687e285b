import TansiqModel

/// `placement.maxPerNode`: at most that many instances of the application on one node.
struct MaxPerNodeFilter: DynamicFilter {
    var code: PendingReason { .spreadConstraint }

    func reject(_ node: Int, _ request: InstanceRequest, _ state: ClusterState) -> String? {
        guard let max = request.constraints.maxPerNode else { return nil }
        let count = state.appOnNode[request.applicationKey]?[node] ?? 0
        return count >= max ? "maxPerNode \(max) reached" : nil
    }
}
