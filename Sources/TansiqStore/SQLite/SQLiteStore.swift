import Foundation
import GRDB
import HashTreeCollections
import TansiqModel

/// The embedded store: one SQLite file in WAL mode, `synchronous = FULL` so that a commit is on
/// disk when it returns, schema changes through GRDB's migrator.
public final class SQLiteStore: Store {
    private let pool: DatabasePool
    private let path: String
    private let encoder = WireJSON.encoder()
    private let decoder = WireJSON.decoder()
    /// The last audit record this store wrote (or found when it opened): the next is chained to it.
    private let head = Locked<AuditChain.Head?>(nil)
    /// The size the WAL file is cut back to when it starts over. SQLite checkpoints it every 1,000
    /// pages (about 4 MB) and then writes it again from the start, but while a reader holds an
    /// older snapshot the checkpoint cannot finish and the log grows past that; without a limit the
    /// file keeps the largest size it ever reached. 4 MiB: the log of 1,000 pages and its headers.
    static let walSizeLimit = 4 << 20

    /// How many events are kept (the newest; older ones are pruned as new ones come).
    private let maxEvents: Int64

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    ///
    /// Throws `StoreError.io` when the file cannot be opened or migrated.
    public init(path: String, maxEvents: Int64 = EventsCapacity.rows) throws {
        self.maxEvents = maxEvents
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA journal_size_limit = \(Self.walSizeLimit)")
        }
        configuration.busyMode = .timeout(5)
        self.path = path
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
            let found = try pool.read { db in try AuditTable.head(in: db) }
            head.withLock { $0 = found }
        } catch let error as DatabaseError {
            throw StoreError.io("cannot open \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try MetaTable.create(db)
            try MinistriesTable.table.create(db)
            try ApplicationsTable.table.create(db)
            try CapacityRequestsTable.table.create(db)
            try InstancesTable.table.create(db)
            try TokensTable.table.create(db)
            try AuditTable.create(db)
        }
        migrator.registerMigration("v2-nodes") { db in
            try NodesTable.table.create(db)
        }
        migrator.registerMigration("v3-events") { db in
            try EventsTable.create(db)
        }
        migrator.registerMigration("v4-usage") { db in
            try UsageTable.create(db)
        }
        migrator.registerMigration("v5-ministry-serial") { db in
            // Ministries created before uids existed get theirs when the controller starts.
            try db.execute(sql: "INSERT INTO meta VALUES ('ministry_serial', 0)")
        }
        migrator.registerMigration("v6-audit-chain") { db in
            try AuditTable.addChain(db)
        }
        migrator.registerMigration("v7-secrets") { db in
            try SecretsTable.table.create(db)
        }
        migrator.registerMigration("v8-endpoints-version") { db in
            try db.execute(sql: "INSERT INTO meta VALUES ('endpoints_version', 0)")
        }
        migrator.registerMigration("v9-history") { db in
            try AuditTable.addArchive(db)
            try UsageDaysTable.create(db)
        }
        return migrator
    }

    /// Copies the database at `source` — as it is at one moment, while a controller may be writing
    /// it (SQLite's online backup API) — to a new file at `path`. Throws `StoreError.invalid` when
    /// `path` exists, `StoreError.io` when either file cannot be used.
    public static func backup(databaseAt source: String, to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError.invalid("\(path) exists; refusing to overwrite it")
        }
        guard FileManager.default.fileExists(atPath: source) else { throw StoreError.io("\(source) does not exist") }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            let from = try DatabaseQueue(path: source, configuration: configuration)
            let to = try DatabaseQueue(path: path)
            try from.backup(to: to)
            try to.close()
            try from.close()
        } catch let error as DatabaseError {
            try? FileManager.default.removeItem(atPath: path)
            throw StoreError.io("backup of \(source) to \(path) failed: \(error.message ?? "\(error.resultCode)")")
        }
    }

    public func load() async throws -> StoredState {
        try await guarded {
            try await pool.read { [decoder] db in
                var state = StoredState()
                state.resourceVersion = try MetaTable.get("resource_version", in: db)
                state.instanceSerial = try MetaTable.get("instance_serial", in: db)
                state.ministrySerial = try MetaTable.get("ministry_serial", in: db)
                state.endpointsVersion = try MetaTable.get("endpoints_version", in: db)
                state.ministries = TreeDictionary(try MinistriesTable.table.all(in: db, decoder: decoder))
                state.applications = TreeDictionary(try ApplicationsTable.table.all(in: db, decoder: decoder))
                state.capacityRequests = TreeDictionary(
                    try CapacityRequestsTable.table.all(in: db, decoder: decoder))
                for instance in try InstancesTable.table.all(in: db, decoder: decoder).values { state.put(instance) }
                state.tokens = TreeDictionary(try TokensTable.table.all(in: db, decoder: decoder))
                state.nodes = TreeDictionary(try NodesTable.table.all(in: db, decoder: decoder))
                state.secrets = TreeDictionary(try SecretsTable.table.all(in: db, decoder: decoder))
                return state
            }
        }
    }

    public func commit(_ changeset: Changeset) async throws {
        if changeset.isEmpty { return }
        let next = try await guarded {
            try await pool.write { [encoder, self] db in
                let stored = try MetaTable.get("resource_version", in: db)
                guard stored == changeset.basedOn else {
                    throw StoreError.conflict("computed from version \(changeset.basedOn), the store is at \(stored)")
                }
                if let next = changeset.resourceVersion {
                    guard next > stored else {
                        throw StoreError.conflict("version \(next) does not follow \(stored)")
                    }
                    try MetaTable.set("resource_version", next, in: db)
                }
                if let serial = changeset.instanceSerial {
                    guard serial >= (try MetaTable.get("instance_serial", in: db)) else {
                        throw StoreError.conflict("instance serial \(serial) goes backwards")
                    }
                    try MetaTable.set("instance_serial", serial, in: db)
                }
                if let serial = changeset.ministrySerial {
                    guard serial >= (try MetaTable.get("ministry_serial", in: db)) else {
                        throw StoreError.conflict("ministry serial \(serial) goes backwards")
                    }
                    try MetaTable.set("ministry_serial", serial, in: db)
                }
                if let version = changeset.endpointsVersion {
                    guard version > (try MetaTable.get("endpoints_version", in: db)) else {
                        throw StoreError.conflict("endpoints version \(version) does not move forward")
                    }
                    try MetaTable.set("endpoints_version", version, in: db)
                }
                for mutation in changeset.mutations {
                    try Self.write(mutation, in: db, encoder: encoder)
                }
                let next = try AuditTable.append(changeset.audit, after: head.withLock { $0 }, in: db)
                if !changeset.events.isEmpty { try EventsTable.append(changeset.events, keeping: maxEvents, in: db) }
                for record in changeset.usage { try UsageTable.append(record, in: db) }
                return next
            }
        }
        head.withLock { $0 = next }
    }

    public func auditHead() async -> AuditChain.Head? {
        head.withLock { $0 }
    }

    private static func write(_ mutation: Mutation, in db: Database, encoder: JSONEncoder) throws {
        switch mutation {
        case .putMinistry(let m): try MinistriesTable.table.put(m, in: db, encoder: encoder)
        case .deleteMinistry(let name): try MinistriesTable.table.delete(key: name, in: db)
        case .putApplication(let a): try ApplicationsTable.table.put(a, in: db, encoder: encoder)
        case .deleteApplication(let ministry, let name):
            try ApplicationsTable.table.delete(key: ApplicationsTable.key(ministry: ministry, name: name), in: db)
        case .putCapacityRequest(let r): try CapacityRequestsTable.table.put(r, in: db, encoder: encoder)
        case .deleteCapacityRequest(let name): try CapacityRequestsTable.table.delete(key: name, in: db)
        case .putInstance(let i): try InstancesTable.table.put(i, in: db, encoder: encoder)
        case .deleteInstance(let id): try InstancesTable.table.delete(key: id, in: db)
        case .putToken(let t): try TokensTable.table.put(t, in: db, encoder: encoder)
        case .putNode(let n): try NodesTable.table.put(n, in: db, encoder: encoder)
        case .deleteNode(let name): try NodesTable.table.delete(key: name, in: db)
        case .putSecret(let secret): try SecretsTable.table.put(secret, in: db, encoder: encoder)
        case .deleteSecret(let ministry, let name):
            try SecretsTable.table.delete(key: SecretsTable.key(ministry: ministry, name: name), in: db)
        }
    }

    public func audit(after: Int64, limit: Int) async throws -> [AuditRecord] {
        try await guarded {
            try await pool.read { db in try AuditTable.after(after, limit: limit, in: db) }
        }
    }

    public func usage(from: Date, to: Date) async throws -> [UsageRecord] {
        try await guarded {
            try await pool.read { db in try UsageTable.overlapping(from: from, to: to, in: db) }
        }
    }

    public func usageDays(from: Date, to: Date) async throws -> [UsageDay] {
        try await guarded {
            try await pool.read { db in try UsageDaysTable.overlapping(from: from, to: to, in: db) }
        }
    }

    public func rollUpUsage(endedBefore: Date, limit: Int) async throws -> Int {
        try await guarded {
            try await pool.write { db in try UsageTable.rollUp(endedBefore: endedBefore, limit: limit, in: db) }
        }
    }

    public func auditArchived() async throws -> AuditChain.Head? {
        try await guarded {
            try await pool.read { db in try AuditTable.archived(in: db) }
        }
    }

    public func removeAudit(through seq: Int64) async throws {
        try await guarded {
            try await pool.write { db in try AuditTable.removeThrough(seq, in: db) }
        }
    }

    public func events(
        kind: String?, ministry: String?, name: String?, ministries: Set<String>?, limit: Int
    ) async throws -> [Event] {
        try await guarded {
            try await pool.read { db in
                try EventsTable.query(
                    kind: kind, ministry: ministry, name: name, ministries: ministries, limit: limit, in: db)
            }
        }
    }

    public func close() async throws {
        try guardedSync {
            try pool.close()
            // GRDB keeps the WAL file of a pool (persistent WAL, for read-only openers). A plain
            // connection opened and closed last checkpoints the log into the database file and
            // removes `-wal` and `-shm`, so a cleanly stopped controller leaves one file.
            try DatabaseQueue(path: path).close()
        }
    }

    /// Maps GRDB's errors onto `StoreError`, keeping the store's own.
    private func guarded<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            if error.resultCode == .SQLITE_MISUSE { throw StoreError.closed }
            throw StoreError.io(error.message ?? "\(error.resultCode)")
        }
    }

    private func guardedSync(_ body: () throws -> Void) throws {
        do { try body() } catch let error as DatabaseError { throw StoreError.io(error.message ?? "\(error)") }
    }
}
