import TansiqModel

/// The controller's durable state. One backend per deployment: SQLite embedded (the default),
/// PostgreSQL later; every backend passes the same conformance suite
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

    /// Audit records with `seq > after`, oldest first, at most `limit`.
    func audit(after: Int64, limit: Int) async throws -> [AuditRecord]

    /// Releases the backend (a clean shutdown). Further calls throw.
    func close() async throws
}

/// What `Store.load()` returns.
public struct StoredState: Sendable, Equatable {
    /// The cluster-wide version of the last committed change (0 for a new store).
    public var resourceVersion: Int64 = 0
    /// The last instance serial handed out (ids are never reused).
    public var instanceSerial: Int64 = 0
    /// Ministries by name.
    public var ministries: [String: Ministry] = [:]
    /// Applications by `ministry/name`.
    public var applications: [String: Application] = [:]
    /// Capacity requests by name.
    public var capacityRequests: [String: CapacityRequest] = [:]
    /// Instances by id.
    public var instances: [String: Instance] = [:]
    /// Tokens by id.
    public var tokens: [String: TokenRecord] = [:]

    /// An empty state.
    public init() {}
}

/// Why a store call failed.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The changeset does not follow the stored state.
    case conflict(String)
    /// The backend failed.
    case io(String)
    /// The store was closed.
    case closed

    /// A sentence.
    public var description: String {
        switch self {
        case .conflict(let m): "store conflict: \(m)"
        case .io(let m): "store error: \(m)"
        case .closed: "the store is closed"
        }
    }
}
