import TansiqModel

/// A node as the scheduler sees it.
public struct SchedulerNode: Sendable, Hashable {
    /// Unique name.
    public var name: String
    /// What instances may use on it.
    public var allocatable: Resources
    /// Merged labels (`datacentre`, `zone`, `rack`, free-form).
    public var labels: [String: String]
    /// Operator taints.
    public var taints: [Taint]
    /// Ready (reporting within the grace period).
    public var ready: Bool
    /// Cordoned: no new instances.
    public var cordoned: Bool

    /// Creates a node.
    public init(
        name: String, allocatable: Resources, labels: [String: String] = [:], taints: [Taint] = [], ready: Bool = true,
        cordoned: Bool = false
    ) {
        self.name = name
        self.allocatable = allocatable
        self.labels = labels
        self.taints = taints
        self.ready = ready
        self.cordoned = cordoned
    }
}

/// A ministry's quota terms: its effective quota and how it shares in its cohort.
public struct QuotaTerms: Sendable, Hashable {
    /// The ministry's name.
    public var ministry: String
    /// Effective quota (nominal plus active grants).
    public var quota: Resources
    /// Its cohort; nil: it neither lends nor borrows.
    public var cohort: String?
    /// Most it may borrow; unnamed dimensions: whatever the cohort could lend.
    public var borrowingLimit: ResourceLimits?
    /// Most of its unused quota it lends; unnamed dimensions: all of it.
    public var lendingLimit: ResourceLimits?
    /// Fair-share weight, positive.
    public var weight: Double
    /// Priorities it may use.
    public var priorities: Set<Priority>

    /// Creates terms with the manifest defaults.
    public init(
        ministry: String, quota: Resources, cohort: String? = nil, borrowingLimit: ResourceLimits? = nil,
        lendingLimit: ResourceLimits? = nil, weight: Double = 1, priorities: Set<Priority> = Set(Priority.allCases)
    ) {
        self.ministry = ministry
        self.quota = quota
        self.cohort = cohort
        self.borrowingLimit = borrowingLimit
        self.lendingLimit = lendingLimit
        self.weight = weight
        self.priorities = priorities
    }

    /// Terms of a ministry the snapshot does not list: no limit at all.
    public static func unlimited(_ ministry: String) -> QuotaTerms {
        QuotaTerms(ministry: ministry, quota: .unlimited)
    }
}

extension Resources {
    /// Large enough never to bind, small enough that sums of a few never overflow.
    public static let unlimited = Resources(
        cpuMillis: 1 << 56, memoryBytes: 1 << 56, storageBytes: 1 << 56, instances: 1 << 56)
}

/// Where an application's instances may go, as the filters read it.
public struct Constraints: Sendable, Hashable {
    /// Allowed values of the node label `datacentre`; empty: any.
    public var datacentres: [String]
    /// Labels that must match.
    public var nodeSelector: [String: String]
    /// Tolerated taints.
    public var tolerations: [Toleration]
    /// Topology key to spread over with skew ≤ 1.
    public var spread: String?
    /// Most instances of the application on one node.
    public var maxPerNode: Int?
    /// Fixed ports: one instance using each per node.
    public var fixedPorts: [Int]

    /// Creates constraints; none by default.
    public init(
        datacentres: [String] = [], nodeSelector: [String: String] = [:], tolerations: [Toleration] = [],
        spread: String? = nil, maxPerNode: Int? = nil, fixedPorts: [Int] = []
    ) {
        self.datacentres = datacentres
        self.nodeSelector = nodeSelector
        self.tolerations = tolerations
        self.spread = spread
        self.maxPerNode = maxPerNode
        self.fixedPorts = fixedPorts
    }

    /// The part of the constraints that depends only on the node, not on what runs on it.
    var staticPart: StaticConstraints {
        StaticConstraints(datacentres: datacentres, nodeSelector: nodeSelector, tolerations: tolerations)
    }
}

/// Constraints fixed for the life of a plan: evaluated once per node per class.
struct StaticConstraints: Hashable {
    var datacentres: [String]
    var nodeSelector: [String: String]
    var tolerations: [Toleration]
}

/// One instance to place, or one already placed.
public struct InstanceRequest: Sendable, Hashable {
    /// Unique id.
    public var id: String
    /// Owning ministry.
    public var ministry: String
    /// Owning application (unique within the ministry).
    public var application: String
    /// Its priority.
    public var priority: Priority
    /// Its request, counting one instance slot.
    public var resources: Resources
    /// Where it may go.
    public var constraints: Constraints
    /// Creation order: larger is newer (victims are chosen newest first).
    public var sequence: Int64

    /// Creates a request.
    public init(
        id: String, ministry: String, application: String, priority: Priority = .standard, resources: Resources,
        constraints: Constraints = Constraints(), sequence: Int64 = 0
    ) {
        self.id = id
        self.ministry = ministry
        self.application = application
        self.priority = priority
        self.resources = resources
        self.constraints = constraints
        self.sequence = sequence
    }

    /// `ministry/application`.
    public var applicationKey: String { "\(ministry)/\(application)" }
}

/// An instance already on a node.
public struct PlacedInstance: Sendable, Hashable {
    /// What it is.
    public var request: InstanceRequest
    /// Where it is.
    public var node: String
    /// Within its ministry's quota (true) or borrowed (false).
    public var guaranteed: Bool

    /// Creates a placed instance.
    public init(request: InstanceRequest, node: String, guaranteed: Bool) {
        self.request = request
        self.node = node
        self.guaranteed = guaranteed
    }
}

/// Everything a plan is made from.
public struct Snapshot: Sendable {
    /// The nodes.
    public var nodes: [SchedulerNode]
    /// Quota terms by ministry; a ministry not listed has no limit.
    public var ministries: [QuotaTerms]
    /// Instances on nodes.
    public var placed: [PlacedInstance]

    /// Creates a snapshot.
    public init(nodes: [SchedulerNode], ministries: [QuotaTerms], placed: [PlacedInstance] = []) {
        self.nodes = nodes
        self.ministries = ministries
        self.placed = placed
    }
}
