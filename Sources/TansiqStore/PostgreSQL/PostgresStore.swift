import Foundation
import HashTreeCollections
import Logging
import NIOCore
import PostgresNIO
import TansiqModel

/// The store of several controllers: one PostgreSQL database (15 or later) that they share.
/// Commits are one transaction each, `synchronous_commit` on, checked against the stored
/// version like SQLite's; a controller's commits are also fenced by the leader lease
/// (`PostgresStore+Lease`): while `requireFence` is set, a commit lands only if the lease still
/// names this controller with its epoch, checked in the same transaction.
///
/// Every call gives up after `timeout` (the pool would otherwise wait for a database that is
/// down); the connections come back by themselves when the database does.
public final class PostgresStore: Store {
    let client: PostgresClient
    /// The database.
    public let url: PostgresURL
    let logger: Logger
    let timeout: Duration
    let requireFence: Bool
    /// How many events are kept (the newest).
    let maxEvents: Int64
    private let runner: Task<Void, Never>
    private let encoder = WireJSON.encoder()
    private let decoder = WireJSON.decoder()
    /// The last audit record this store wrote (or read with the state): the next is chained to it.
    private let head = Locked<AuditChain.Head?>(nil)
    /// The lease this controller holds, checked by every commit when `requireFence` is set.
    let fence = Locked<Fence?>(nil)
    private let closed = Locked(false)

    /// Connects to `url`, creates or migrates the schema, and reads the audit log's head.
    /// `requireFence`: commits need a lease (`hold(_:)`), as a controller's do; `logger` hears the
    /// connection pool (reconnections) and the queries at trace level. Throws
    /// `StoreError.io` when the database cannot be reached within `timeout` or migrated.
    public init(
        url: PostgresURL, requireFence: Bool = false, timeout: Duration = .seconds(10),
        maxEvents: Int64 = EventsCapacity.rows,
        logger: Logger = Logger(label: "tansiq-store", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws {
        self.url = url
        self.maxEvents = maxEvents
        self.logger = logger
        self.timeout = timeout
        self.requireFence = requireFence
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: Self.tls(url.tls))
        configuration.options.connectTimeout = timeout
        configuration.options.maximumConnections = 8
        configuration.options.additionalStartupParameters = [
            ("synchronous_commit", "on"), ("application_name", "tansiq-controller"), ("TimeZone", "UTC"),
        ]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        do {
            try await guarded("migrate") { [logger] in
                try await client.withConnection { connection in
                    try await PostgresSchema.migrate(connection, logger: logger)
                }
            }
            let found = try await guarded("read the audit head") { [logger] in
                try await client.withConnection { try await PostgresAuditTable.head(on: $0, logger: logger) }
            }
            head.withLock { $0 = found }
        } catch {
            runner.cancel()
            throw error
        }
    }

    static func tls(_ mode: PostgresURL.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    public func load() async throws -> StoredState {
        let (state, found) = try await guarded("load") { [client, decoder, logger] in
            try await client.withTransaction(logger: logger) { connection in
                // One snapshot of everything.
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
                var state = StoredState()
                let meta = try await PostgresMeta.all(on: connection, logger: logger)
                state.resourceVersion = meta["resource_version"] ?? 0
                state.instanceSerial = meta["instance_serial"] ?? 0
                state.ministrySerial = meta["ministry_serial"] ?? 0
                state.endpointsVersion = meta["endpoints_version"] ?? 0
                state.ministries = TreeDictionary(
                    try await MinistriesTable.table.all(on: connection, decoder: decoder, logger: logger))
                state.applications = TreeDictionary(
                    try await ApplicationsTable.table.all(on: connection, decoder: decoder, logger: logger))
                state.capacityRequests = TreeDictionary(
                    try await CapacityRequestsTable.table.all(on: connection, decoder: decoder, logger: logger))
                for instance in try await InstancesTable.table.all(on: connection, decoder: decoder, logger: logger)
                    .values
                {
                    state.put(instance)
                }
                state.tokens = TreeDictionary(
                    try await TokensTable.table.all(on: connection, decoder: decoder, logger: logger))
                state.nodes = TreeDictionary(
                    try await NodesTable.table.all(on: connection, decoder: decoder, logger: logger))
                state.secrets = TreeDictionary(
                    try await SecretsTable.table.all(on: connection, decoder: decoder, logger: logger))
                return (state, try await PostgresAuditTable.head(on: connection, logger: logger))
            }
        }
        // Another controller may have written since this one last did: chain after what is there.
        head.withLock { $0 = found }
        return state
    }

    public func commit(_ changeset: Changeset) async throws {
        if changeset.isEmpty { return }
        let fence = fence.withLock { $0 }
        if requireFence && fence == nil { throw StoreError.fenced("this controller holds no lease") }
        let previous = head.withLock { $0 }
        let writes = TableWrites(changeset.mutations)
        let next = try await guarded("commit") { [client, encoder, logger, maxEvents] in
            try await client.withTransaction(logger: logger) { connection in
                let prelude = try await PostgresMeta.prelude(fence, on: connection, logger: logger)
                if prelude.fenced, let fence { throw Self.lost(fence) }
                let stored = prelude.counters["resource_version"] ?? 0
                guard stored == changeset.basedOn else {
                    throw StoreError.conflict("computed from version \(changeset.basedOn), the store is at \(stored)")
                }
                try await PostgresMeta.advance(changeset, from: prelude.counters, on: connection, logger: logger)
                try await Self.write(writes, on: connection, encoder: encoder, logger: logger)
                let next = try await PostgresAuditTable.append(
                    changeset.audit, after: previous, last: prelude.lastAudit, on: connection, logger: logger)
                try await PostgresEventsTable.append(
                    changeset.events, keeping: maxEvents, on: connection, logger: logger)
                try await PostgresUsageTable.append(changeset.usage, on: connection, logger: logger)
                return next
            }
        }
        head.withLock { $0 = next }
    }

    private static func write(
        _ writes: TableWrites, on connection: PostgresConnection, encoder: JSONEncoder, logger: Logger
    )
        async throws
    {
        try await MinistriesTable.table.delete(keys: writes.ministries.deletions, on: connection, logger: logger)
        try await MinistriesTable.table.upsert(writes.ministries.puts, on: connection, encoder: encoder, logger: logger)
        try await ApplicationsTable.table.delete(keys: writes.applications.deletions, on: connection, logger: logger)
        try await ApplicationsTable.table.upsert(
            writes.applications.puts, on: connection, encoder: encoder, logger: logger)
        try await CapacityRequestsTable.table.delete(
            keys: writes.capacityRequests.deletions, on: connection, logger: logger)
        try await CapacityRequestsTable.table.upsert(
            writes.capacityRequests.puts, on: connection, encoder: encoder, logger: logger)
        try await InstancesTable.table.delete(keys: writes.instances.deletions, on: connection, logger: logger)
        try await InstancesTable.table.upsert(writes.instances.puts, on: connection, encoder: encoder, logger: logger)
        try await TokensTable.table.upsert(writes.tokens.puts, on: connection, encoder: encoder, logger: logger)
        try await NodesTable.table.delete(keys: writes.nodes.deletions, on: connection, logger: logger)
        try await NodesTable.table.upsert(writes.nodes.puts, on: connection, encoder: encoder, logger: logger)
        try await SecretsTable.table.delete(keys: writes.secrets.deletions, on: connection, logger: logger)
        try await SecretsTable.table.upsert(writes.secrets.puts, on: connection, encoder: encoder, logger: logger)
    }

    public func auditHead() async -> AuditChain.Head? {
        head.withLock { $0 }
    }

    public func audit(after: Int64, limit: Int) async throws -> [AuditRecord] {
        try await guarded("read the audit log") { [client, logger] in
            try await client.withConnection {
                try await PostgresAuditTable.after(after, limit: limit, on: $0, logger: logger)
            }
        }
    }

    public func usage(from: Date, to: Date) async throws -> [UsageRecord] {
        try await guarded("read usage") { [client, logger] in
            try await client.withConnection {
                try await PostgresUsageTable.overlapping(from: from, to: to, on: $0, logger: logger)
            }
        }
    }

    public func usageDays(from: Date, to: Date) async throws -> [UsageDay] {
        try await guarded("read usage days") { [client, logger] in
            try await client.withConnection {
                try await PostgresUsageDaysTable.overlapping(from: from, to: to, on: $0, logger: logger)
            }
        }
    }

    public func rollUpUsage(endedBefore: Date, limit: Int) async throws -> Int {
        try await guarded("roll up usage") { [client, logger] in
            try await client.withTransaction(logger: logger) {
                try await PostgresUsageTable.rollUp(endedBefore: endedBefore, limit: limit, on: $0, logger: logger)
            }
        }
    }

    public func auditArchived() async throws -> AuditChain.Head? {
        try await guarded("read the audit archive's head") { [client, logger] in
            try await client.withConnection { try await PostgresAuditTable.archived(on: $0, logger: logger) }
        }
    }

    public func removeAudit(through seq: Int64) async throws {
        try await guarded("archive the audit log") { [client, logger] in
            try await client.withTransaction(logger: logger) {
                try await PostgresAuditTable.removeThrough(seq, on: $0, logger: logger)
            }
        }
    }

    public func events(
        kind: String?, ministry: String?, name: String?, ministries: Set<String>?, limit: Int
    ) async throws -> [Event] {
        try await guarded("read events") { [client, logger] in
            try await client.withConnection {
                try await PostgresEventsTable.query(
                    kind: kind, ministry: ministry, name: name, ministries: ministries, limit: limit, on: $0,
                    logger: logger)
            }
        }
    }

    public func close() async throws {
        closed.withLock { $0 = true }
        runner.cancel()
        await runner.value
    }

    /// Runs `body` within `timeout` (the store's, unless given), mapping PostgreSQL's errors onto
    /// `StoreError` and keeping the store's own (a refusal inside a transaction comes back wrapped
    /// by the rollback). The caller gets its answer at the deadline even if the work does not
    /// heed its cancellation.
    func guarded<T: Sendable>(
        _ what: String, timeout: Duration? = nil, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        if closed.withLock({ $0 }) { throw StoreError.closed }
        let limit = timeout ?? self.timeout
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let answer = Answer(continuation, what: what)
            let work = Task {
                do { answer.give(.success(try await body())) } catch { answer.give(.failure(error)) }
            }
            Task {
                try? await Task.sleep(for: limit)
                if answer.give(.failure(StoreError.io("\(what): the database did not answer within \(limit)"))) {
                    work.cancel()
                }
            }
        }
    }

    /// A continuation resumed once, by whichever of the work and the deadline comes first.
    private final class Answer<T: Sendable>: Sendable {
        private let continuation: Locked<CheckedContinuation<T, Error>?>
        private let what: String

        init(_ continuation: CheckedContinuation<T, Error>, what: String) {
            self.continuation = Locked(continuation)
            self.what = what
        }

        /// Resumes with `result` unless it was already; true when this call resumed it.
        @discardableResult
        func give(_ result: Result<T, Error>) -> Bool {
            guard let continuation = continuation.withLock({ $0.take() }) else { return false }
            continuation.resume(with: result.mapError { PostgresStore.storeError($0, what: what) })
            return true
        }
    }

    static func storeError(_ error: any Error, what: String) -> StoreError {
        switch error {
        case let error as StoreError: return error
        case let error as PostgresTransactionError:
            if let inner = error.closureError { return storeError(inner, what: what) }
            if let inner = error.beginError ?? error.commitError { return storeError(inner, what: what) }
            return .io("\(what): the transaction failed")
        case let error as PSQLError:
            if let message = error.serverInfo?[.message] {
                return .io("\(what): \(message) (\(error.serverInfo?[.sqlState] ?? "?"))")
            }
            return .io("\(what): \(error.code)")
        default:
            return .io("\(what): \(error)")
        }
    }
}
