import Foundation

/// A node's lifecycle phase.
public enum NodePhase: String, CaseIterable, Sendable, Codable {
    /// Joined, no status yet.
    case joining = "Joining"
    /// Reporting within the grace period.
    case ready = "Ready"
    /// Silent for longer than the grace period.
    case notReady = "NotReady"
}

/// Which resource-limit mechanism a node's agent enforces.
public enum Enforcement: String, CaseIterable, Sendable, Codable {
    case cgroupV1 = "cgroup-v1"
    case cgroupV2 = "cgroup-v2"
    case none
}

/// A data-centre node, registered by its agent's join.
public struct Node: Sendable, Hashable, Codable {
    /// The node's DNS-label name, also its certificate's common name.
    public var name: String
    /// Lifecycle phase.
    public var phase: NodePhase
    /// No new instances are placed while set.
    public var cordoned: Bool
    /// Instances are being moved off.
    public var draining: Bool
    /// Agent and operator labels merged, the operator's winning.
    public var labels: [String: String]
    /// Labels the agent reported.
    public var agentLabels: [String: String]
    /// Labels an operator set.
    public var operatorLabels: [String: String]
    /// Operator taints.
    public var taints: [Taint]
    /// What the node has.
    public var capacity: Resources
    /// What instances may use: capacity less reserved.
    public var allocatable: Resources
    /// Requests of the instances placed on it.
    public var allocated: Resources
    /// The limit mechanism its agent enforces.
    public var enforcement: Enforcement
    /// When its last status arrived.
    public var lastHeartbeat: Date?
    /// How its agent isolates instances; nil until its first status.
    public var isolation: Isolation?
    /// The address its instances are reached at (`tansiq-agent join --address`, or the one its
    /// connection to the controller leaves from); nil until its agent says.
    public var address: String?
    /// The port its agent serves instances' logs on (mutual TLS); nil when it does not.
    public var logPort: Int?

    /// Creates a node.
    public init(
        name: String, phase: NodePhase = .joining, cordoned: Bool = false, draining: Bool = false,
        agentLabels: [String: String] = [:], operatorLabels: [String: String] = [:], taints: [Taint] = [],
        capacity: Resources, allocatable: Resources? = nil, allocated: Resources = .zero,
        enforcement: Enforcement = .none, lastHeartbeat: Date? = nil
    ) {
        self.name = name
        self.phase = phase
        self.cordoned = cordoned
        self.draining = draining
        self.agentLabels = agentLabels
        self.operatorLabels = operatorLabels
        self.labels = agentLabels.merging(operatorLabels) { _, op in op }
        self.taints = taints
        self.capacity = capacity
        self.allocatable = allocatable ?? capacity
        self.allocated = allocated
        self.enforcement = enforcement
        self.lastHeartbeat = lastHeartbeat
    }

    /// What is left for new instances.
    public var free: Resources { allocatable - allocated }
}
