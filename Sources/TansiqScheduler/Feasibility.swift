import TansiqModel

/// Whether an instance may go on a node, by the scheduler's own filters: readiness, cordon,
/// datacentres, selector, taints (the static filters), fit, fixed ports, maxPerNode (the dynamic
/// ones) and spread — for the plan applier, which re-checks a plan made on an older snapshot
/// against the latest state (Nomad's `AllocsFit` pattern: one feasibility code, two callers).
/// Evictions and placements are recorded as they are committed, so later checks see them.
public final class Feasibility {
    private let state: ClusterState

    /// The cluster as `snapshot` has it.
    public init(_ snapshot: Snapshot) { state = ClusterState(snapshot) }

    /// nil when `request` may go on `node`; else why not.
    public func reject(_ request: InstanceRequest, on node: String) -> String? {
        guard let index = state.nodeIndex[node] else { return "node \(node) is gone" }
        let constraints = request.constraints.staticPart
        for filter in StaticFilters.all {
            if let why = filter.reject(index, constraints, state) { return why }
        }
        for filter in DynamicFilters.all {
            if let why = filter.reject(index, request, state) { return why }
        }
        if let key = request.constraints.spread { return spreadRejection(request, key: key, node: index) }
        return nil
    }

    /// Records `request` as placed on `node`.
    public func place(_ request: InstanceRequest, on node: String, guaranteed: Bool) {
        guard let index = state.nodeIndex[node] else { return }
        state.add(request, node: index, guaranteed: guaranteed, planned: true)
    }

    /// Records instance `id` as gone.
    public func evict(_ id: String) { state.remove(id) }

    /// A placement keeps the application's skew within 1 where it can: the node's domain must
    /// hold no more of it than the least-filled domain that still has a node with room for it
    /// (the order the scheduler fills domains in).
    private func spreadRejection(_ request: InstanceRequest, key: String, node: Int) -> String? {
        guard let domain = state.nodes[node].labels[key] else { return "no \(key) label for spread" }
        let counts = state.appInDomain[ClusterState.domainKey(request.applicationKey, key)] ?? [:]
        let mine = counts[domain] ?? 0
        let constraints = request.constraints.staticPart
        for other in state.nodes.indices {
            guard let otherDomain = state.nodes[other].labels[key], otherDomain != domain,
                counts[otherDomain] ?? 0 < mine,
                StaticFilters.all.allSatisfy({ $0.reject(other, constraints, state) == nil }),
                Scheduler.passesDynamic(other, request, state)
            else { continue }
            return "spread over \(key): \(otherDomain) holds fewer and has room"
        }
        return nil
    }
}
