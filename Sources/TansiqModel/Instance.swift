import Foundation

/// An instance's phase, from the controller's view (Pending, Assigned, Lost, Preempted, Stopped)
/// and the agent's (the rest).
public enum InstancePhase: String, CaseIterable, Sendable, Codable {
    case pending = "Pending"
    case assigned = "Assigned"
    case starting = "Starting"
    case running = "Running"
    case healthy = "Healthy"
    case unhealthy = "Unhealthy"
    case exited = "Exited"
    case oomKilled = "OOMKilled"
    case failed = "Failed"
    case lost = "Lost"
    case preempted = "Preempted"
    case stopped = "Stopped"
    /// Taken down by a rollout, a drain, a scale-down or a delete: out of the endpoints, still
    /// running until the gateways have stopped sending it requests (or its drain timeout passes).
    case terminating = "Terminating"

    /// True for phases after which the instance holds no resources and never runs again.
    public var isTerminal: Bool {
        switch self {
        case .lost, .preempted, .stopped: true
        default: false
        }
    }
}

/// One replica of one generation of an application. Ids are never reused.
public struct Instance: Sendable, Hashable, Codable {
    /// Unique, never reused.
    public var id: String
    /// Owning ministry.
    public var ministry: String
    /// Owning application.
    public var application: String
    /// The application generation it runs.
    public var generation: Int64
    /// Where it is placed; nil while Pending.
    public var node: String?
    /// Current phase.
    public var phase: InstancePhase
    /// Why it is in this phase (a pending reason, who preempted it, ...).
    public var reason: String?
    /// While Pending: why, as a stable code.
    public var reasonCode: PendingReason?
    /// Within its ministry's effective quota (true) or borrowed from the cohort (false).
    public var guaranteed: Bool
    /// Its application's priority.
    public var priority: Priority
    /// Its request.
    public var resources: ResourceRequest
    /// Ports the agent assigned, by name.
    public var ports: [String: Int]
    /// Exit code of its last run, if it exited.
    public var exitCode: Int?
    /// How often the agent restarted it.
    public var restarts: Int
    /// The agent's last message.
    public var message: String?
    /// When it was created.
    public var createdAt: Date?
    /// The image digest it runs (its generation's), when its application has an image.
    public var imageDigest: String?
    /// When the instance's current accrual interval began (assignment, or a change between
    /// guaranteed and borrowed); nil while it holds nothing.
    public var assignedAt: Date?
    /// When it ended (became Lost, Preempted or Stopped): terminated instances are removed a
    /// retention period after it (`tansiq-controller run --retention`).
    public var endedAt: Date?
    /// While Terminating: since when, and the endpoints version at which it left the endpoints
    /// (the gateways must have applied that version before its agent is told to stop it).
    public var terminating: Terminating?

    /// When an instance began terminating and what must happen before it stops.
    public struct Terminating: Sendable, Hashable, Codable {
        public var since: Date
        /// The endpoints version without it.
        public var endpointsVersion: Int64
        /// The longest the gateways are waited for (`spec.update.drainTimeout`), in milliseconds.
        public var drainTimeoutMilliseconds: Int64

        public init(since: Date, endpointsVersion: Int64, drainTimeoutMilliseconds: Int64) {
            self.since = since
            self.endpointsVersion = endpointsVersion
            self.drainTimeoutMilliseconds = drainTimeoutMilliseconds
        }
    }

    /// Creates an instance.
    public init(
        id: String, ministry: String, application: String, generation: Int64 = 1, node: String? = nil,
        phase: InstancePhase = .pending, reason: String? = nil, guaranteed: Bool = true,
        priority: Priority = .standard, resources: ResourceRequest, ports: [String: Int] = [:],
        exitCode: Int? = nil, restarts: Int = 0, message: String? = nil, createdAt: Date? = nil
    ) {
        self.id = id
        self.ministry = ministry
        self.application = application
        self.generation = generation
        self.node = node
        self.phase = phase
        self.reason = reason
        self.guaranteed = guaranteed
        self.priority = priority
        self.resources = resources
        self.ports = ports
        self.exitCode = exitCode
        self.restarts = restarts
        self.message = message
        self.createdAt = createdAt
    }
}

extension Instance: WireJSONWriting {
    private enum CodingKeys: String, CodingKey {
        case id, ministry, application, generation, node, phase, reason, guaranteed, priority, resources, ports
        case exitCode, restarts, message, createdAt, assignedAt, imageDigest, reasonCode, endedAt, terminating
    }

    /// Writes `node` and `reason` as `null` when unset: every instance on the wire has them.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(ministry, forKey: .ministry)
        try c.encode(application, forKey: .application)
        try c.encode(generation, forKey: .generation)
        try c.encode(node, forKey: .node)
        try c.encode(phase, forKey: .phase)
        try c.encode(reason, forKey: .reason)
        try c.encodeIfPresent(reasonCode, forKey: .reasonCode)
        try c.encode(guaranteed, forKey: .guaranteed)
        try c.encode(priority, forKey: .priority)
        try c.encode(resources, forKey: .resources)
        try c.encode(ports, forKey: .ports)
        try c.encodeIfPresent(exitCode, forKey: .exitCode)
        try c.encode(restarts, forKey: .restarts)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(createdAt, forKey: .createdAt)
        try c.encodeIfPresent(assignedAt, forKey: .assignedAt)
        try c.encodeIfPresent(imageDigest, forKey: .imageDigest)
        try c.encodeIfPresent(endedAt, forKey: .endedAt)
        try c.encodeIfPresent(terminating, forKey: .terminating)
    }

    /// What `encode(to:)` writes through `WireJSON.encoder()`, written directly.
    public func writeWireJSON(_ out: inout WireJSONWriter) {
        out.object { o in
            o.member("application", application)
            o.memberIfPresent("assignedAt", assignedAt)
            o.memberIfPresent("createdAt", createdAt)
            o.memberIfPresent("endedAt", endedAt)
            if let exitCode { o.member("exitCode", Int64(exitCode)) }
            o.member("generation", generation)
            o.member("guaranteed", guaranteed)
            o.member("id", id)
            o.memberIfPresent("imageDigest", imageDigest)
            o.memberIfPresent("message", message)
            o.member("ministry", ministry)
            o.memberOrNull("node", node)
            o.member("phase", phase.rawValue)
            o.member("ports", ports)
            o.member("priority", priority.rawValue)
            o.memberOrNull("reason", reason)
            o.memberIfPresent("reasonCode", reasonCode?.rawValue)
            o.member("resources", resources: resources)
            o.member("restarts", Int64(restarts))
            if let terminating {
                o.member("terminating") { t in
                    t.member("drainTimeoutMilliseconds", terminating.drainTimeoutMilliseconds)
                    t.member("endpointsVersion", terminating.endpointsVersion)
                    t.memberIfPresent("since", terminating.since)
                }
            }
        }
    }

    /// True while it takes what it requests of its node and its ministry's quota: placed, and
    /// not Lost or Preempted.
    public var holdsResources: Bool { node != nil && phase != .lost && phase != .preempted }

    /// This instance ended in `phase` (a terminal one) for `reason` at `time`.
    public func ended(_ phase: InstancePhase, reason: String, at time: Date) -> Instance {
        var ended = self
        ended.phase = phase
        ended.reason = reason
        ended.endedAt = time
        return ended
    }
}

/// Why a Pending instance waits, as a stable code beside its sentence (DESIGN rule 11).
public enum PendingReason: String, CaseIterable, Sendable, Codable {
    /// No node has room for it.
    case insufficientCapacity = "InsufficientCapacity"
    /// No node matches its datacentres, selector or tolerations (or none is Ready and uncordoned).
    case noMatchingNode = "NoMatchingNode"
    /// Its fixed ports are taken on every node that would fit.
    case portsInUse = "PortsInUse"
    /// Its spread or maxPerNode keeps it off the nodes with room.
    case spreadConstraint = "SpreadConstraint"
    /// Beyond its ministry's quota, and the cohort lends nothing now.
    case quotaExhausted = "QuotaExhausted"
    /// Beyond its quota and its borrowing limit.
    case borrowingLimitReached = "BorrowingLimitReached"
    /// The cohort's idle capacity is borrowed by ministries whose fair share is not above its own.
    case waitingForFairShare = "WaitingForFairShare"
    /// Its place is being made: instances it preempts are on their way out.
    case waitingForPreemption = "WaitingForPreemption"
    /// Its image cannot be pulled.
    case imageUnavailable = "ImageUnavailable"
}
