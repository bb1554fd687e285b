import Foundation
import Metrics
import TansiqModel
import TansiqStore

/// The controller's single writer: it owns the registry (the desired state in memory) and the
/// store, and runs one change at a time — plan on the registry, commit to the store, then apply
/// to the registry — so no interleaving of requests can admit past a quota. Reads see the last
/// committed state and never wait for a write.
public actor Cluster {
    private var registry: Registry
    private let store: any Store
    private var writing = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    private let onCommit: @Sendable (StoredState) -> Void

    /// A cluster over what `store` holds; `onCommit` sees the state after every commit.
    public init(store: any Store, onCommit: @escaping @Sendable (StoredState) -> Void = { _ in }) async throws {
        self.store = store
        self.onCommit = onCommit
        self.registry = Registry(state: try await store.load())
        onCommit(registry.state)
    }

    /// The registry as last committed.
    public var current: Registry { registry }

    /// Plans with `plan` against the current state and commits the result, one change at a
    /// time. A refusal (`APIError`) is audited — with `subject`, `action` and `object` — and
    /// rethrown; nothing else is committed for it.
    public func change<Value: Sendable>(
        audit: AuditRecord, dryRun: Bool = false,
        _ plan: @Sendable (Registry) throws(APIError) -> Registry.Outcome<Value>
    ) async throws -> Value {
        await acquire()
        defer { release() }
        let outcome: Registry.Outcome<Value>
        do {
            outcome = try plan(registry)
        } catch {
            var record = audit
            record.result = error.code.rawValue
            record.message = error.message
            try await commit(Changeset(basedOn: registry.state.resourceVersion, audit: [record]))
            throw error
        }
        if dryRun { return outcome.value }
        try await commit(outcome.changeset)
        registry.apply(outcome.changeset)
        if !outcome.changeset.mutations.isEmpty { onCommit(registry.state) }
        return outcome.value
    }

    /// Appends audit records alone (refusals decided outside the registry: 401, 403 of a route).
    public func record(_ audit: [AuditRecord]) async throws {
        await acquire()
        defer { release() }
        try await commit(Changeset(basedOn: registry.state.resourceVersion, audit: audit))
    }

    /// Audit records after `seq`.
    public func audit(after seq: Int64, limit: Int) async throws -> [AuditRecord] {
        try await store.audit(after: seq, limit: limit)
    }

    /// Closes the store; the cluster takes no more changes.
    public func close() async throws {
        await acquire()
        try await store.close()
    }

    private func commit(_ changeset: Changeset) async throws {
        let start = ContinuousClock.now
        // Made per commit (the factory caches it), so it reports to whatever backend is bootstrapped.
        defer {
            Metrics.Timer(label: "tansiq_store_commit_seconds", preferredDisplayUnit: .seconds)
                .recordInterval(since: start)
        }
        do {
            try await store.commit(changeset)
        } catch {
            throw StoreUnavailable(underlying: error)
        }
    }

    private func acquire() async {
        while writing { await withCheckedContinuation { waiting.append($0) } }
        writing = true
    }

    private func release() {
        writing = false
        if !waiting.isEmpty { waiting.removeFirst().resume() }
    }
}

extension Metrics.Timer {
    /// Records the time since `start`.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
