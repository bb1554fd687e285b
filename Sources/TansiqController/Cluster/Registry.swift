import Foundation
import TansiqModel
import TansiqScheduler
import TansiqStore

/// The cluster's desired state and the rules that change it: pure (no I/O, no clock). Every
/// operation computes a `Changeset` from the current state; the `Cluster` service commits it
/// and only then applies it here, so what this holds is always what the store holds.
public struct Registry: Sendable {
    /// The state, as committed.
    public private(set) var state: StoredState

    /// How long a node may stay unheard before it is NotReady.
    public var gracePeriod: TimeInterval = Registry.defaultGracePeriod

    /// The uid (and gid) of the first ministry; each new one gets the next (`run --uid-base`).
    public var uidBase: Int = Registry.defaultUIDBase
    /// DESIGN's default uid base.
    public static let defaultUIDBase = 200_000

    /// The cluster's allocatable capacity: the sum over Ready nodes; zero until nodes join.
    public private(set) var allocatable: Resources = .zero

    /// How many changesets that changed something this registry has applied since it was built
    /// over its state: a plan made on a registry of the same revision was made on this very state.
    public private(set) var revision = 0

    /// The `revision` of the last changeset that changed what the scheduler keeps of the cluster
    /// between rounds (`changesScheduling`): while it is the same, a scheduler that saw this
    /// registry's placed instances still sees them as they are.
    public private(set) var schedulingRevision = 0

    /// A registry over `state`.
    public init(state: StoredState) {
        self.state = state
        self.allocatable = Self.allocatable(of: state)
    }

    /// Applies a committed changeset.
    public mutating func apply(_ changeset: Changeset) {
        let nextSchedulingRevision = schedulingRevision(after: changeset)
        state.apply(changeset)
        if !changeset.mutations.isEmpty { revision += 1 }
        schedulingRevision = nextSchedulingRevision
        let touchesNodes = changeset.mutations.contains {
            switch $0 {
            case .putNode, .deleteNode: true
            default: false
            }
        }
        if touchesNodes { allocatable = Self.allocatable(of: state) }
    }

    /// `schedulingRevision` once `changeset` is applied: the next revision when it changes what
    /// a kept scheduler holds, else the same.
    public func schedulingRevision(after changeset: Changeset) -> Int {
        Self.changesScheduling(changeset.mutations, in: state) ? revision + 1 : schedulingRevision
    }

    static func allocatable(of state: StoredState) -> Resources {
        state.nodes.values.reduce(Resources.zero) { $0 + ($1.phase == .ready ? $1.allocatable : .zero) }
    }

    /// An operation's result: what to commit and what to answer.
    public struct Outcome<Value: Sendable>: Sendable {
        /// What to commit (empty for a dry run).
        public var changeset: Changeset
        /// What to answer.
        public var value: Value
    }

    // MARK: Quotas

    /// `spec.quota` plus the approved capacity requests of `ministry` active at `now`.
    public func effectiveQuota(of ministry: Ministry, now: Date) -> Resources {
        Self.effectiveQuota(of: ministry, requests: state.capacityRequests.values, now: now)
    }

    static func effectiveQuota(
        of ministry: Ministry, requests: some Sequence<CapacityRequest>, now: Date
    ) -> Resources {
        requests.reduce(ministry.spec.quota) { total, request in
            guard request.metadata.ministry == ministry.metadata.name, request.status?.phase == .approved,
                request.spec.until.map({ $0 > now }) ?? true
            else { return total }
            return total + request.spec.add.asResources
        }
    }

    /// The quota terms of every ministry of `state` at `now`, as the scheduler's ledger reads them.
    static func ledger(of state: StoredState, now: Date) -> QuotaLedger {
        QuotaLedger(
            state.ministries.values.map { ministry in
                QuotaTerms(
                    ministry: ministry.metadata.name,
                    quota: effectiveQuota(of: ministry, requests: state.capacityRequests.values, now: now),
                    cohort: ministry.spec.cohort, borrowingLimit: ministry.spec.borrowingLimit,
                    lendingLimit: ministry.spec.lendingLimit, weight: ministry.spec.weight,
                    priorities: Set(ministry.spec.priorities))
            })
    }

    /// What the ministry's applications have been admitted: replicas × resources, by name.
    static func admitted(of ministry: String, in state: StoredState) -> [String: (total: Resources, critical: Bool)] {
        var result: [String: (total: Resources, critical: Bool)] = [:]
        for app in state.applications.values where app.metadata.ministry == ministry {
            result[app.metadata.name] = (app.spec.totalRequest, app.spec.priority == .critical)
        }
        return result
    }

    // MARK: Instances

    /// The instances of one application, oldest first.
    func instances(ministry: String, application: String, in state: StoredState) -> [Instance] {
        Self.oldestFirst(state.instances(ofApplication: "\(ministry)/\(application)"))
    }

    /// `instances` oldest first: by the serial of their ids, each id read once (not once per
    /// comparison — a node's answer, a snapshot or a listing sorts thousands).
    static func oldestFirst(_ instances: some Sequence<Instance>) -> [Instance] {
        instances.map { (serial: serial(of: $0.id), instance: $0) }.sorted { $0.serial < $1.serial }.map(\.instance)
    }

    /// The serial at the end of an instance id (`health-portal-17` → 17).
    static func serial(of id: String) -> Int64 {
        guard let dash = id.lastIndex(of: "-") else { return 0 }
        return Int64(id[id.index(after: dash)...]) ?? 0
    }
}

extension Instance {
    /// A new Pending instance that takes `self`'s place: same application, generation and
    /// request, a new id from `serial` (ids are never reused).
    func replacement(serial: Int64, reason: String, at time: Date) -> Instance {
        var instance = Instance(
            id: "\(ministry)-\(application)-\(serial)", ministry: ministry, application: application,
            generation: generation, phase: .pending, reason: reason, guaranteed: false, priority: priority,
            resources: resources, createdAt: time)
        instance.imageDigest = imageDigest
        return instance
    }
}

extension ResourceLimits {
    /// The named resources, zero for the others.
    var asResources: Resources {
        Resources(
            cpuMillis: cpuMillis ?? 0, memoryBytes: memoryBytes ?? 0, storageBytes: storageBytes ?? 0,
            instances: instances ?? 0)
    }
}
