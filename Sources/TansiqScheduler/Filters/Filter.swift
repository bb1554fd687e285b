import TansiqModel

/// A filter that depends only on the node and the instance's static constraints: evaluated
/// once per node when a node class is built.
protocol StaticFilter: Sendable {
    /// The pending code of its rejections.
    var code: PendingReason { get }
    /// nil when the node passes; else why not, as a short phrase counted in pending reasons.
    func reject(_ node: Int, _ constraints: StaticConstraints, _ state: ClusterState) -> String?
}

/// A filter that depends on what is already on the node: evaluated on each candidate.
protocol DynamicFilter: Sendable {
    /// The pending code of its rejections.
    var code: PendingReason { get }
    /// nil when the node passes; else why not, as a short phrase counted in pending reasons.
    func reject(_ node: Int, _ request: InstanceRequest, _ state: ClusterState) -> String?
}

/// The filters, in the order their reasons are reported.
enum StaticFilters {
    static let all: [any StaticFilter] = [ReadinessFilter(), DatacentreFilter(), NodeSelectorFilter(), TaintFilter()]
}

enum DynamicFilters {
    static let all: [any DynamicFilter] = [ResourceFitFilter(), PortsFilter(), MaxPerNodeFilter()]
}
