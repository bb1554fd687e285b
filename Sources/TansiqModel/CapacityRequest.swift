import Foundation

/// A ministry's request for more quota, approved or denied by an operator.
public struct CapacityRequest: Sendable, Hashable, Codable {
    /// `metadata.ministry` names the requester's ministry.
    public var metadata: ObjectMeta
    /// What is asked for.
    public var spec: CapacityRequestSpec
    /// Where it stands; nil in a manifest.
    public var status: CapacityRequestStatus?

    /// Creates a request.
    public init(metadata: ObjectMeta, spec: CapacityRequestSpec, status: CapacityRequestStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// The increase asked for and why.
public struct CapacityRequestSpec: Sendable, Hashable, Codable {
    /// Added to the quota on approval; names at least one resource.
    public var add: ResourceLimits
    /// Why, for the approver.
    public var reason: String
    /// When set, the grant ends at this time.
    public var until: Date?

    /// Creates a spec.
    public init(add: ResourceLimits, reason: String, until: Date? = nil) {
        self.add = add
        self.reason = reason
        self.until = until
    }
}

/// A capacity request's lifecycle: Pending → Approved → Expired, or Pending → Denied.
public enum CapacityRequestPhase: String, CaseIterable, Sendable, Codable {
    case pending = "Pending"
    case approved = "Approved"
    case denied = "Denied"
    case expired = "Expired"
}

/// Who asked, who decided, and when.
public struct CapacityRequestStatus: Sendable, Hashable, Codable {
    /// Current phase.
    public var phase: CapacityRequestPhase
    /// The subject of the token that created it.
    public var requestedBy: String?
    /// The operator who approved or denied it.
    public var decidedBy: String?
    /// The decision's comment.
    public var comment: String?
    /// When it was decided.
    public var decidedAt: Date?
    /// Everyone who changed it while it was pending (none of them, nor its requester, may decide it).
    public var changedBy: [String]?

    /// The subjects that filed or changed the request.
    public var authors: Set<String> { Set([requestedBy].compactMap { $0 } + (changedBy ?? [])) }

    /// Creates a status.
    public init(
        phase: CapacityRequestPhase, requestedBy: String? = nil, decidedBy: String? = nil, comment: String? = nil,
        decidedAt: Date? = nil
    ) {
        self.phase = phase
        self.requestedBy = requestedBy
        self.decidedBy = decidedBy
        self.comment = comment
        self.decidedAt = decidedAt
    }
}
