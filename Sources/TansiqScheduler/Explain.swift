/// Pending reasons aggregated over nodes, like SwarmKit and Kubernetes:
/// "0/10000 nodes: 6000 insufficient memory, 3900 not in datacentre dc-2, 100 cordoned".
enum Explain {
    static func reason(_ request: InstanceRequest, _ state: ClusterState) -> String {
        var counts: [String: Int] = [:]
        let constraints = request.constraints.staticPart
        var feasible: [Int] = []
        for node in state.nodes.indices {
            if let why = firstRejection(node, request, constraints, state) {
                counts[why, default: 0] += 1
            } else {
                feasible.append(node)
            }
        }
        if let key = request.constraints.spread, !feasible.isEmpty {
            // Feasible by every other filter: the spread constraint is what holds it back.
            counts["would exceed \(key) spread skew", default: 0] += feasible.count
        }
        let parts = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.value) \($0.key)" }
        return "0/\(state.nodes.count) nodes: " + (parts.isEmpty ? "no nodes" : parts.joined(separator: ", "))
    }

    static func firstRejection(
        _ node: Int, _ request: InstanceRequest, _ constraints: StaticConstraints,
        _ state: ClusterState
    ) -> String? {
        for filter in StaticFilters.all {
            if let why = filter.reject(node, constraints, state) { return why }
        }
        for filter in DynamicFilters.all {
            if let why = filter.reject(node, request, state) { return why }
        }
        return nil
    }
}
