import TansiqModel

/// Pending reasons aggregated over nodes, like SwarmKit and Kubernetes:
/// "0/10000 nodes: 6000 insufficient memory, 3900 not in datacentre dc-2, 100 cordoned", and a
/// code: `NoMatchingNode` when no node passes the static filters (readiness, cordon, datacentres,
/// selector, taints), else the code of the commonest rejection among those that do
/// (`InsufficientCapacity`, `PortsInUse`, `SpreadConstraint`).
enum Explain {
    static func reason(_ request: InstanceRequest, _ state: ClusterState) -> (PendingReason, String) {
        var counts: [String: Int] = [:]
        var codes: [PendingReason: Int] = [:]
        let constraints = request.constraints.staticPart
        var feasible: [Int] = []
        var staticallyFeasible = 0
        for node in state.nodes.indices {
            if let (code, why, isStatic) = firstRejection(node, request, constraints, state) {
                counts[why, default: 0] += 1
                if !isStatic {
                    codes[code, default: 0] += 1
                    staticallyFeasible += 1
                }
            } else {
                feasible.append(node)
                staticallyFeasible += 1
            }
        }
        if let key = request.constraints.spread, !feasible.isEmpty {
            // Feasible by every other filter: the spread constraint is what holds it back.
            counts["would exceed \(key) spread skew", default: 0] += feasible.count
            codes[.spreadConstraint, default: 0] += feasible.count
        }
        let parts = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.value) \($0.key)" }
        let sentence = "0/\(state.nodes.count) nodes: " + (parts.isEmpty ? "no nodes" : parts.joined(separator: ", "))
        let order: [PendingReason] = [.insufficientCapacity, .portsInUse, .spreadConstraint]
        let code: PendingReason =
            state.nodes.isEmpty
            ? .insufficientCapacity
            : staticallyFeasible == 0
                ? .noMatchingNode
                : codes.max {
                    ($0.value, -(order.firstIndex(of: $0.key) ?? 9)) < ($1.value, -(order.firstIndex(of: $1.key) ?? 9))
                }?.key
                    ?? .insufficientCapacity
        return (code, sentence)
    }

    static func firstRejection(
        _ node: Int, _ request: InstanceRequest, _ constraints: StaticConstraints,
        _ state: ClusterState
    ) -> (code: PendingReason, why: String, isStatic: Bool)? {
        for filter in StaticFilters.all {
            if let why = filter.reject(node, constraints, state) { return (filter.code, why, true) }
        }
        for filter in DynamicFilters.all {
            if let why = filter.reject(node, request, state) { return (filter.code, why, false) }
        }
        return nil
    }
}
