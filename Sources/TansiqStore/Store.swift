import Foundation
import HashTreeCollections
import TansiqModel

/// The controller's durable state. One backend per deployment: SQLite embedded (the default),
/// or PostgreSQL shared by several controllers; every backend passes the same conformance suite
/// (`Tests/TansiqStoreTests/StoreConformance.swift`).
///
/// The controller keeps the desired state in memory and writes through the store: `load()` once
/// at start, then one `commit(_:)` per change. A commit is atomic (all of it or nothing) and
/// durable when it returns: an acknowledged write survives a crash of the process or the host.
public protocol Store: Sendable {
    /// Everything the controller keeps in memory, as last committed.
    ///
    /// Throws `StoreError.io` when the backend cannot be read.
    func load() async throws -> StoredState

    /// Commits `changeset` in one transaction, durably.
    ///
    /// Returns when the changeset is on disk. Throws `StoreError.conflict` (and commits
    /// nothing) when the changeset was computed from an older state than the store holds
    /// (`basedOn` differs from the stored version) or does not move the version forward;
    /// `StoreError.io` when the backend failed (and nothing was committed).
    func commit(_ changeset: Changeset) async throws

    /// Audit records with `seq > after`, oldest first, at most `limit`, with their hashes.
    func audit(after: Int64, limit: Int) async throws -> [AuditRecord]

    /// The last audit record this store wrote, or found when it opened (nil: none): what the
    /// chain must reach (`AuditChainVerifier.finish(known:)`) and what a checkpoint signs.
    func auditHead() async -> AuditChain.Head?

    /// Closed usage intervals that overlap `[from, to)`.
    func usage(from: Date, to: Date) async throws -> [UsageRecord]

    /// Days of usage that `rollUpUsage` folded, overlapping `[from, to)`.
    func usageDays(from: Date, to: Date) async throws -> [UsageDay]

    /// Folds closed usage intervals that ended before `endedBefore` into their ministries' days
    /// (`UsageDay.fold`, added to the days already kept) and removes them, at most `limit` of
    /// them, in one transaction. Returns how many it folded (fewer than `limit`: no more to fold).
    func rollUpUsage(endedBefore: Date, limit: Int) async throws -> Int

    /// The last audit record removed from the store by `removeAudit(through:)` (its position and
    /// hash: the first record kept follows it), or nil when none was.
    func auditArchived() async throws -> AuditChain.Head?

    /// Removes the audit records up to and including `seq` — which must be a checkpoint record,
    /// so that what is kept starts after a signed head — and remembers it as `auditArchived()`,
    /// in one transaction. The controller writes them to its archive before. Throws
    /// `StoreError.invalid` (and removes nothing) when record `seq` is not a checkpoint record
    /// the store holds.
    func removeAudit(through seq: Int64) async throws

    /// The newest events (at most `limit`, oldest first) matching the filters that are set;
    /// `ministries`, when set, keeps events of those ministries and of no ministry.
    func events(
        kind: String?, ministry: String?, name: String?, ministries: Set<String>?, limit: Int
    ) async throws
        -> [Event]

    /// Releases the backend (a clean shutdown). Further calls throw.
    func close() async throws
}

/// What `Store.load()` returns, and what the controller keeps in memory. The collections are
/// persistent hash trees: a copy shares everything, and a change to a copy copies only the path
/// to what changed, so planning a change on a copy of a large state costs O(log n), not O(n).
public struct StoredState: Sendable, Equatable {
    /// The cluster-wide version of the last committed change (0 for a new store).
    public var resourceVersion: Int64 = 0
    /// The last instance serial handed out (ids are never reused).
    public var instanceSerial: Int64 = 0
    /// How many ministries were ever created (each got a uid of its own, never reused).
    public var ministrySerial: Int64 = 0
    /// The version of the endpoints (applications' ready instances): raised by every commit that
    /// changes them, agents' reports included, which do not move `resourceVersion`.
    public var endpointsVersion: Int64 = 0
    /// Ministries by name.
    public var ministries: TreeDictionary<String, Ministry> = [:]
    /// Applications by `ministry/name`.
    public var applications: TreeDictionary<String, Application> = [:]
    /// Capacity requests by name.
    public var capacityRequests: TreeDictionary<String, CapacityRequest> = [:]
    /// Instances by id; changed through `put(_:)` and `removeInstance(_:)`, which keep the index.
    public private(set) var instances: TreeDictionary<String, Instance> = [:]
    /// Instance ids by application key (`ministry/name`).
    public private(set) var instanceIDsByApplication: TreeDictionary<String, Set<String>> = [:]
    /// Instance ids by node.
    public private(set) var instanceIDsByNode: TreeDictionary<String, Set<String>> = [:]
    /// Ids of instances on no node (waiting to be placed, or given up).
    public private(set) var unplacedInstanceIDs: TreeSet<String> = []
    /// Ids of Terminating instances (leaving the gateways before they stop): the take-down loop
    /// looks at these every second, not at every instance.
    public private(set) var terminatingInstanceIDs: TreeSet<String> = []
    /// What the instances that hold resources (`Instance.holdsResources`) take, by ministry: kept
    /// with every put and removal, so a quota question is a lookup, not a pass over every instance.
    public private(set) var usage: [String: MinistryUsage] = [:]
    /// Tokens by id.
    public var tokens: TreeDictionary<String, TokenRecord> = [:]
    /// Nodes by name.
    public var nodes: TreeDictionary<String, Node> = [:]
    /// Secrets by `ministry/name`, their values sealed.
    public var secrets: TreeDictionary<String, SecretRecord> = [:]

    /// An empty state.
    public init() {}

    /// Adds or replaces an instance. A replacement touches only the indexes whose key it changes
    /// (placing an instance moves it from the unplaced set to its node's, not out of its
    /// application's set and back).
    public mutating func put(_ instance: Instance) {
        let old = instances.updateValue(instance, forKey: instance.id)
        if let old, old.holdsResources { removeUsage(old) }
        if instance.holdsResources { usage[instance.ministry, default: MinistryUsage()].add(instance) }
        if old?.ministry != instance.ministry || old?.application != instance.application {
            if let old { unindexApplication(old) }
            instanceIDsByApplication[Self.key(instance), default: []].insert(instance.id)
        }
        if old?.phase == .terminating, instance.phase != .terminating { terminatingInstanceIDs.remove(instance.id) }
        if instance.phase == .terminating, old?.phase != .terminating { terminatingInstanceIDs.insert(instance.id) }
        if old == nil || old?.node != instance.node {
            if let old { unindexNode(old) }
            if let node = instance.node {
                instanceIDsByNode[node, default: []].insert(instance.id)
            } else {
                unplacedInstanceIDs.insert(instance.id)
            }
        }
    }

    /// Removes an instance, if there is one with that id.
    public mutating func removeInstance(_ id: String) {
        guard let old = instances.removeValue(forKey: id) else { return }
        unindex(old)
    }

    /// The instances placed on one node, in no particular order.
    public func instances(onNode node: String) -> [Instance] {
        (instanceIDsByNode[node] ?? []).compactMap { instances[$0] }
    }

    /// The instances of one application, in no particular order.
    public func instances(ofApplication key: String) -> [Instance] {
        (instanceIDsByApplication[key] ?? []).compactMap { instances[$0] }
    }

    private mutating func unindex(_ instance: Instance) {
        if instance.holdsResources { removeUsage(instance) }
        if instance.phase == .terminating { terminatingInstanceIDs.remove(instance.id) }
        unindexApplication(instance)
        unindexNode(instance)
    }

    private mutating func removeUsage(_ instance: Instance) {
        usage[instance.ministry]?.remove(instance)
        if usage[instance.ministry]?.isEmpty == true { usage[instance.ministry] = nil }
    }

    private mutating func unindexApplication(_ instance: Instance) {
        let key = Self.key(instance)
        instanceIDsByApplication[key]?.remove(instance.id)
        if instanceIDsByApplication[key]?.isEmpty == true { instanceIDsByApplication[key] = nil }
    }

    private mutating func unindexNode(_ instance: Instance) {
        if let node = instance.node {
            instanceIDsByNode[node]?.remove(instance.id)
            if instanceIDsByNode[node]?.isEmpty == true { instanceIDsByNode[node] = nil }
        } else {
            unplacedInstanceIDs.remove(instance.id)
        }
    }

    private static func key(_ instance: Instance) -> String { "\(instance.ministry)/\(instance.application)" }
}

/// What one ministry's instances that hold resources take: the guaranteed and the borrowed apart.
public struct MinistryUsage: Sendable, Equatable {
    public private(set) var guaranteed = Resources.zero
    public private(set) var borrowed = Resources.zero
    /// How many instances each sum counts (a sum of zero requests still counts its instances).
    public private(set) var guaranteedCount = 0
    public private(set) var borrowedCount = 0

    public init() {}

    var isEmpty: Bool { guaranteedCount == 0 && borrowedCount == 0 }

    mutating func add(_ instance: Instance) { change(instance, count: 1, +=) }

    mutating func remove(_ instance: Instance) { change(instance, count: -1, -=) }

    /// Counts `instance` in the sum of its kind (guaranteed or borrowed) with `apply`.
    private mutating func change(
        _ instance: Instance, count: Int, _ apply: (inout Resources, Resources) -> Void
    ) {
        if instance.guaranteed {
            apply(&guaranteed, instance.resources.vector)
            guaranteedCount += count
        } else {
            apply(&borrowed, instance.resources.vector)
            borrowedCount += count
        }
    }
}

/// Why a store call failed.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The changeset does not follow the stored state.
    case conflict(String)
    /// The backend failed.
    case io(String)
    /// The store was closed.
    case closed
    /// A commit of a controller that no longer holds the leader lease (it must step down).
    case fenced(String)
    /// The store's address or settings are invalid.
    case invalid(String)

    /// A sentence.
    public var description: String {
        switch self {
        case .conflict(let m): "store conflict: \(m)"
        case .io(let m): "store error: \(m)"
        case .closed: "the store is closed"
        case .fenced(let m): "not the leader: \(m)"
        case .invalid(let m): m
        }
    }
}
