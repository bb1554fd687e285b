import TansiqModel

/// The request must fit the node's free cpu, memory, storage and instance slots.
struct ResourceFitFilter: DynamicFilter {
    var code: PendingReason { .insufficientCapacity }

    func reject(_ node: Int, _ request: InstanceRequest, _ state: ClusterState) -> String? {
        let free = state.free[node]
        let r = request.resources
        if r.cpuMillis > free.cpuMillis { return "insufficient cpu" }
        if r.memoryBytes > free.memoryBytes { return "insufficient memory" }
        if r.storageBytes > free.storageBytes { return "insufficient storage" }
        if r.instances > free.instances { return "no free instance slots" }
        return nil
    }
}
