import TansiqModel

/// A fixed port is taken by at most one instance per node.
struct PortsFilter: DynamicFilter {
    var code: PendingReason { .portsInUse }

    func reject(_ node: Int, _ request: InstanceRequest, _ state: ClusterState) -> String? {
        for port in request.constraints.fixedPorts where state.usedPorts[node].contains(port) {
            return "port \(port) in use"
        }
        return nil
    }
}
