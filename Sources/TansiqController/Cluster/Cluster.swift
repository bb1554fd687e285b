import Foundation
import Metrics
import TansiqModel
import TansiqStore

/// The controller's single writer: it owns the registry (the desired state in memory) and the
/// store. Changes are planned one after another, each against the state the previous ones left,
/// so no interleaving of requests can admit past a quota; the changes waiting together are
/// committed in one transaction (group commit: one fsync for many requests), and every request
/// is answered only once that transaction is on disk. Reads see the last committed state and
/// never wait for a write.
public actor Cluster {
    private var registry: Registry
    let store: any Store
    private let onCommit: @Sendable (StoredState) -> Void
    private var queue: [Job] = []
    private var flushing = false
    private var lingering: Task<Void, Never>?
    private var closed = false
    /// Long polls of nodes' assignments.
    let watch: AssignmentWatch
    /// Long polls of the endpoints (one set, under the key "").
    let endpointsWatch: AssignmentWatch
    /// Watches of lists (`?watch=true`): woken by every commit that changes something.
    let commits = CommitWatch()
    /// When each node was last heard from.
    public nonisolated let heartbeats: Heartbeats
    /// The gateways and the endpoints version each has applied.
    public nonisolated let gateways: Gateways
    /// The leadership term this cluster serves (carried in every assignments answer).
    public nonisolated let epoch: Int64
    /// Where the other controllers and clients reach this one (`run --advertise`), if said.
    public nonisolated let advertise: String
    /// The directory of the audit log's archive (`AuditArchive`), nil when none is kept.
    public nonisolated let auditArchive: String?
    /// Told of a commit that failed because the store moved on without this controller or no
    /// longer takes its writes (`StoreError.conflict`, `.fenced`): its memory is stale.
    private let onStale: @Sendable (StoreError) -> Void

    private var subscribers: [AsyncStream<Void>.Continuation] = []
    /// Instances committed as Pending (new, or back to pending) since the placement loop last took them.
    private var freshPending: Set<String> = []

    /// Most changes committed in one transaction.
    static let maxBatch = 1024
    /// How long agent reports wait for company before they are committed: statuses are committed
    /// in batches, never one fsync each. People's changes never wait.
    static let linger = Duration.milliseconds(20)

    /// A queued change: planned against the state the batch has reached so far, it returns what
    /// to commit and what to do once the batch's commit has succeeded (nil) or failed.
    private struct Job {
        let plan: (Registry) -> (changeset: Changeset?, finish: (Error?) -> Void)
    }

    /// A cluster over what `store` holds, started at `startedAt`, with nodes NotReady after
    /// `gracePeriod` unheard; `onCommit` sees the state after every commit; `epoch` is the
    /// leadership term it serves and `advertise` its URL; `onStale` hears of commits refused
    /// because the store moved on (another leader, or a write whose fate was unknown).
    public init(
        store: any Store, startedAt: Date = Date(), gracePeriod: TimeInterval = Registry.defaultGracePeriod,
        uidBase: Int = Registry.defaultUIDBase, epoch: Int64 = 1, advertise: String = "",
        auditArchive: String? = nil, onStale: @escaping @Sendable (StoreError) -> Void = { _ in },
        onCommit: @escaping @Sendable (StoredState) -> Void = { _ in }
    ) async throws {
        self.store = store
        self.auditArchive = auditArchive
        self.onCommit = onCommit
        self.epoch = epoch
        self.advertise = advertise
        self.onStale = onStale
        self.heartbeats = Heartbeats(startedAt: startedAt)
        self.gateways = Gateways(startedAt: startedAt)
        var registry = Registry(state: try await store.load())
        registry.gracePeriod = gracePeriod
        registry.uidBase = uidBase
        self.registry = registry
        self.watch = AssignmentWatch(baseline: registry.state.resourceVersion)
        self.endpointsWatch = AssignmentWatch(
            baseline: registry.state.endpointsVersion, gauge: "tansiq_endpoints_long_polls_open")
        onCommit(registry.state)
    }

    /// The registry as last committed.
    public var current: Registry { registry }

    /// Plans with `plan` and commits the result; returns once it is on disk. A refusal
    /// (`APIError`) is audited — `audit` with the refusal's code and message — and rethrown,
    /// with nothing else committed for it. A dry run plans and commits nothing.
    public func change<Value: Sendable>(
        audit: AuditRecord, dryRun: Bool = false,
        _ plan: @escaping @Sendable (Registry) throws(APIError) -> Registry.Outcome<Value>
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, Error>) in
            enqueue(
                Job { registry in
                    do throws(APIError) {
                        let outcome = try plan(registry)
                        return (
                            dryRun ? nil : outcome.changeset,
                            { error in
                                if let error {
                                    continuation.resume(throwing: error)
                                } else {
                                    continuation.resume(returning: outcome.value)
                                }
                            }
                        )
                    } catch {
                        let record = audit.with(result: error.code.rawValue, message: error.message)
                        var refusal = error
                        refusal.audited = true
                        return (
                            Changeset(basedOn: registry.state.resourceVersion, audit: [record]),
                            { continuation.resume(throwing: $0 ?? refusal) }
                        )
                    }
                })
        }
    }

    /// A change the controller makes of its own accord (a loop's round): previewed on the
    /// current state and, when it would change something, planned again in the queue and
    /// committed. Returns the plan's value, or nil when there was nothing to do.
    public func systemChange<Value: Sendable>(
        by subject: String, at time: Date,
        _ plan: @escaping @Sendable (Registry) -> Registry.Outcome<Value>
    ) async throws -> Value? {
        if plan(registry).changeset.mutations.isEmpty { return nil }
        let audit = AuditRecord(
            time: time, requestID: subject, subject: subject, role: "-", action: "system", object: "-", result: "")
        return try await change(audit: audit) { latest throws(APIError) in plan(latest) }
    }

    /// Appends audit records alone (refusals decided before any planning: 401).
    public func record(_ audit: [AuditRecord]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            enqueue(
                Job { registry in
                    (
                        Changeset(basedOn: registry.state.resourceVersion, audit: audit),
                        { error in
                            if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                        }
                    )
                })
        }
    }

    /// Commits what an agent's report changes (`plan` returns nil when nothing), in a batch with
    /// other reports; not audited, and it does not move the cluster's version.
    public func report(_ plan: @escaping @Sendable (Registry) throws(APIError) -> Changeset?) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            enqueue(
                Job { registry in
                    do throws(APIError) {
                        return (
                            try plan(registry),
                            { error in
                                if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                            }
                        )
                    } catch {
                        return (nil, { _ in continuation.resume(throwing: error) })
                    }
                },
                urgent: false)
        }
    }

    /// A stream that yields after every commit that changed objects (coalesced: a slow reader
    /// sees one wake for many commits).
    public func subscribe() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        subscribers.append(continuation)
        return stream
    }

    /// Answers every open assignment long poll at once, and later ones without waiting.
    public func releaseLongPolls() async {
        await watch.releaseAll()
        await endpointsWatch.releaseAll()
        await commits.release()
    }

    /// The instances committed as Pending since the last call (for the placement loop).
    public func takeFreshPending() -> Set<String> {
        defer { freshPending = [] }
        return freshPending
    }

    /// Waits until a node's assignments are newer than `after` or `timeout` passes.
    public nonisolated func waitForAssignments(node: String, after: Int64, timeout: Duration) async -> Int64 {
        await watch.wait(node: node, after: after, timeout: timeout)
    }

    /// Waits until the endpoints version passes `after` or `timeout` passes; returns it.
    public nonisolated func waitForEndpoints(after: Int64, timeout: Duration) async -> Int64 {
        await endpointsWatch.wait(node: "", after: after, timeout: timeout)
    }

    /// Closed usage intervals overlapping `[from, to)`.
    public func usage(from: Date, to: Date) async throws -> [UsageRecord] {
        try await store.usage(from: from, to: to)
    }

    /// Days of closed usage folded by `rollUpUsage`, overlapping `[from, to)`.
    public func usageDays(from: Date, to: Date) async throws -> [UsageDay] {
        try await store.usageDays(from: from, to: to)
    }

    /// Folds the closed usage intervals that ended before `before` into their ministries' days
    /// (`Store.rollUpUsage`), all of them; returns how many it folded.
    @discardableResult
    public func rollUpUsage(endedBefore before: Date) async throws -> Int {
        var folded = 0
        while true {
            let count = try await store.rollUpUsage(endedBefore: before, limit: 5000)
            folded += count
            if count < 5000 { return folded }
        }
    }

    /// Events matching the filters (see `Store.events`).
    public func events(
        kind: String?, ministry: String?, name: String?, ministries: Set<String>?, limit: Int
    ) async throws -> [Event] {
        try await store.events(kind: kind, ministry: ministry, name: name, ministries: ministries, limit: limit)
    }

    /// Audit records after `seq`.
    public func audit(after seq: Int64, limit: Int) async throws -> [AuditRecord] {
        try await store.audit(after: seq, limit: limit)
    }

    /// Finishes the changes in flight, then closes the store; later changes fail.
    public func close() async throws {
        await stop()
        try await store.close()
    }

    /// Finishes the changes in flight; later changes fail and long polls are answered at once.
    /// The store stays open (a controller that steps down keeps it for its next term).
    public func stop() async {
        closed = true
        while flushing || !queue.isEmpty { try? await Task.sleep(for: .milliseconds(2)) }
        await releaseLongPolls()
    }

    private func enqueue(_ job: Job, urgent: Bool = true) {
        if closed {
            _ = job.plan(registry).finish(StoreUnavailable(underlying: StoreError.closed))
            return
        }
        queue.append(job)
        if !flushing {
            flushing = true
            // The timer alone is cancelled when an urgent change arrives, never the flush itself:
            // a cancelled task would cancel the store's write.
            let timer: Task<Void, Never>? = urgent ? nil : Task { try? await Task.sleep(for: Self.linger) }
            lingering = timer
            Task {
                await timer?.value
                await flush()
            }
        } else if urgent {
            lingering?.cancel()  // a lingering batch goes now, with this change
        }
    }

    /// Plans and commits what is queued, batch by batch, until the queue is empty.
    private func flush() async {
        lingering = nil
        while !queue.isEmpty {
            let batch = queue.prefix(Self.maxBatch)
            queue.removeFirst(batch.count)
            var working = registry
            var merged = Changeset(basedOn: registry.state.resourceVersion)
            var finishes: [(Error?) -> Void] = []
            for job in batch {
                let (planned, finish) = job.plan(working)
                if let planned {
                    let changeset = working.stampingEndpoints(planned)
                    working.apply(changeset)
                    merged.append(changeset)
                }
                finishes.append(finish)
            }
            merged.usage = UsageAccounting.closed(by: merged.mutations, before: registry.state, now: Date())
            do {
                try await commit(merged)
                let before = registry
                registry = working
                if !merged.mutations.isEmpty {
                    for mutation in merged.mutations {
                        if case .putInstance(let instance) = mutation, instance.node == nil, instance.phase == .pending
                        {
                            freshPending.insert(instance.id)
                        }
                    }
                    onCommit(registry.state)
                    for subscriber in subscribers { subscriber.yield() }
                }
                if !merged.mutations.isEmpty || !merged.events.isEmpty { await commits.changed() }
                if let version = merged.endpointsVersion { await endpointsWatch.changed([""], at: version) }
                if let version = merged.resourceVersion {
                    let nodes = Self.assignmentChanges(merged.mutations, before: before.state)
                    if !nodes.isEmpty { await watch.changed(nodes, at: version) }
                }
                for finish in finishes { finish(nil) }
            } catch {
                for finish in finishes { finish(error) }
            }
        }
        flushing = false
    }

    private func commit(_ changeset: Changeset) async throws {
        if changeset.isEmpty { return }
        let start = ContinuousClock.now
        // Made per commit (the factory caches it), so it reports to whatever backend is bootstrapped.
        defer {
            Metrics.Timer(label: "tansiq_store_commit_seconds", preferredDisplayUnit: .seconds)
                .recordInterval(since: start)
        }
        do {
            try await store.commit(changeset)
        } catch {
            if let error = error as? StoreError {
                switch error {
                case .conflict, .fenced: onStale(error)
                default: break
                }
            }
            throw StoreUnavailable(underlying: error)
        }
    }
}

extension Cluster {
    /// The nodes whose desired set `mutations` change.
    static func assignmentChanges(_ mutations: [Mutation], before: StoredState) -> Set<String> {
        var nodes: Set<String> = []
        func member(_ instance: Instance?) -> String? {
            guard let instance, Registry.isAssigned(instance) else { return nil }
            return instance.node
        }
        for mutation in mutations {
            switch mutation {
            case .putInstance(let instance):
                let old = before.instances[instance.id]
                let was = member(old)
                let now = member(instance)
                if was != now {
                    if let was { nodes.insert(was) }
                    if let now { nodes.insert(now) }
                } else if let now, old?.generation != instance.generation || old?.resources != instance.resources {
                    nodes.insert(now)
                }
            case .deleteInstance(let id):
                if let was = member(before.instances[id]) { nodes.insert(was) }
            case .putApplication(let app):
                let old = before.applications[app.key]?.spec
                if let old,
                    old.run != app.spec.run || old.ports != app.spec.ports || old.health != app.spec.health
                        || old.restart != app.spec.restart || old.stopAfterDisconnect != app.spec.stopAfterDisconnect
                {
                    for instance in before.instances(ofApplication: app.key) {
                        member(instance).map { nodes.insert($0) }
                    }
                }
            case .deleteNode(let name):
                nodes.insert(name)
            default:
                break
            }
        }
        return nodes
    }
}

extension Changeset {
    /// Appends a changeset planned after this one: its writes and audit records follow, its
    /// counters win.
    mutating func append(_ next: Changeset) {
        resourceVersion = next.resourceVersion ?? resourceVersion
        instanceSerial = next.instanceSerial ?? instanceSerial
        ministrySerial = next.ministrySerial ?? ministrySerial
        endpointsVersion = next.endpointsVersion ?? endpointsVersion
        mutations += next.mutations
        audit += next.audit
        events += next.events
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
