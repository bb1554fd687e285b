/// Where the leader lease lives. A controller leads only while it holds the lease, and every
/// commit it makes is fenced by it (`hold(_:)`): a store shared by several controllers
/// (PostgreSQL) keeps the lease in the database and checks it in each commit's transaction.
public protocol LeaseKeeper: Sendable {
    /// Takes the lease if it has expired, for `ttl`, as `holder` reachable at `url`; returns the
    /// new fence (a higher epoch than any before), or nil when another holds it. Throws when the
    /// keeper cannot be reached.
    func acquire(holder: String, url: String, ttl: Duration) async throws -> Fence?
    /// Extends `fence`'s lease by `ttl`; false when it is no longer `fence`'s (taken or expired).
    func renew(_ fence: Fence, ttl: Duration) async throws -> Bool
    /// Ends `fence`'s lease now, so another controller may take it without waiting.
    func release(_ fence: Fence) async throws
    /// The lease as it stands.
    func lease() async throws -> LeaseView
    /// The fence the store's commits must carry from now on (nil: none).
    func hold(_ fence: Fence?)
}

extension PostgresStore: LeaseKeeper {}

/// The lease of a controller alone on its store (SQLite in its data directory): always its own,
/// epoch 1, never lost.
public struct SoleLease: LeaseKeeper {
    private let url: String

    /// The lease of the controller reachable at `url`.
    public init(url: String) { self.url = url }

    public func acquire(holder: String, url: String, ttl: Duration) async throws -> Fence? {
        Fence(holder: holder, epoch: 1)
    }
    public func renew(_ fence: Fence, ttl: Duration) async throws -> Bool { true }
    public func release(_ fence: Fence) async throws {}
    public func lease() async throws -> LeaseView {
        LeaseView(holder: "", url: url, epoch: 1, remainingMilliseconds: .max)
    }
    public func hold(_ fence: Fence?) {}
}
