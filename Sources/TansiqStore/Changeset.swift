import TansiqModel

/// One atomic change of the store: object writes and deletions, counters, and the audit
/// records that describe them.
public struct Changeset: Sendable, Equatable {
    /// The stored version this change was computed from; the commit fails if the store moved.
    public var basedOn: Int64
    /// The version the change writes (greater than `basedOn`), or nil for a change that does not
    /// move it (audit records of refusals, agent reports).
    public var resourceVersion: Int64?
    /// The new last instance serial, when the change hands out ids.
    public var instanceSerial: Int64?
    /// The new count of ministries ever created, when the change creates one (their uids).
    public var ministrySerial: Int64?
    /// The new endpoints version, when the change moves an application's ready instances.
    public var endpointsVersion: Int64?
    /// Object writes and deletions, in order.
    public var mutations: [Mutation]
    /// Audit records appended in the same transaction.
    public var audit: [AuditRecord]
    /// Events appended in the same transaction.
    public var events: [Event]
    /// Usage intervals closed by this change.
    public var usage: [UsageRecord] = []

    /// Creates a changeset.
    public init(
        basedOn: Int64, resourceVersion: Int64? = nil, instanceSerial: Int64? = nil, mutations: [Mutation] = [],
        audit: [AuditRecord] = [], events: [Event] = []
    ) {
        self.basedOn = basedOn
        self.resourceVersion = resourceVersion
        self.instanceSerial = instanceSerial
        self.mutations = mutations
        self.audit = audit
        self.events = events
    }

    /// True when there is nothing to write.
    public var isEmpty: Bool {
        resourceVersion == nil && instanceSerial == nil && ministrySerial == nil && endpointsVersion == nil
            && mutations.isEmpty && audit.isEmpty
            && events.isEmpty
            && usage.isEmpty
    }
}

/// One object written or removed.
public enum Mutation: Sendable, Equatable {
    /// Creates or replaces a ministry.
    case putMinistry(Ministry)
    /// Removes a ministry by name.
    case deleteMinistry(String)
    /// Creates or replaces an application.
    case putApplication(Application)
    /// Removes an application by ministry and name.
    case deleteApplication(ministry: String, name: String)
    /// Creates or replaces a capacity request.
    case putCapacityRequest(CapacityRequest)
    /// Removes a capacity request by name.
    case deleteCapacityRequest(String)
    /// Creates or replaces an instance.
    case putInstance(Instance)
    /// Removes an instance by id.
    case deleteInstance(String)
    /// Creates or replaces a token record.
    case putToken(TokenRecord)
    /// Creates or replaces a node.
    case putNode(Node)
    /// Removes a node by name.
    case deleteNode(String)
    /// Creates or replaces a secret (its values sealed).
    case putSecret(SecretRecord)
    /// Removes a secret by ministry and name.
    case deleteSecret(ministry: String, name: String)
}

extension StoredState {
    /// This state with `changeset` applied: what `load()` returns after a successful commit.
    /// The controller's in-memory copy and the conformance suite both use it.
    public func applying(_ changeset: Changeset) -> StoredState {
        var next = self
        next.apply(changeset)
        return next
    }

    /// Applies `changeset` in place.
    public mutating func apply(_ changeset: Changeset) {
        if let rv = changeset.resourceVersion { resourceVersion = rv }
        if let serial = changeset.instanceSerial { instanceSerial = serial }
        if let serial = changeset.ministrySerial { ministrySerial = serial }
        if let version = changeset.endpointsVersion { endpointsVersion = version }
        for mutation in changeset.mutations {
            switch mutation {
            case .putMinistry(let m): ministries[m.metadata.name] = m
            case .deleteMinistry(let name): ministries[name] = nil
            case .putApplication(let a): applications[a.key] = a
            case .deleteApplication(let ministry, let name): applications["\(ministry)/\(name)"] = nil
            case .putCapacityRequest(let r): capacityRequests[r.metadata.name] = r
            case .deleteCapacityRequest(let name): capacityRequests[name] = nil
            case .putInstance(let i): put(i)
            case .deleteInstance(let id): removeInstance(id)
            case .putToken(let t): tokens[t.id] = t
            case .putNode(let n): nodes[n.name] = n
            case .deleteNode(let name): nodes[name] = nil
            case .putSecret(let secret): secrets[secret.key] = secret
            case .deleteSecret(let ministry, let name): secrets["\(ministry)/\(name)"] = nil
            }
        }
    }
}
