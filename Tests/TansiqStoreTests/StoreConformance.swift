import Crypto
import Foundation
import GRDB
import TansiqModel
import TansiqTestSupport
import Testing

@testable import TansiqStore

/// A backend under test: makes a fresh store, and opens it again over the same data.
struct Backend: Sendable, CustomStringConvertible {
    let description: String
    /// A new, empty store and a way to open it again over the same data.
    let make: @Sendable () async throws -> (store: any Store, reopen: @Sendable () async throws -> any Store)

    static let sqlite = Backend(description: "SQLite") {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("tansiq.db").path
        return (try SQLiteStore(path: path), { try SQLiteStore(path: path) })
    }

    /// A fresh database on the test PostgreSQL server (`LivePostgres`).
    static let postgres = Backend(description: "PostgreSQL") {
        let url = try PostgresURL(try await LivePostgres.shared.value.database())
        // A call's deadline with room for a loaded machine: at the suite's start, dozens of tests
        // create their databases at once beside the TLS scans, and 10 s was once not enough.
        return (
            try await PostgresStore(url: url, timeout: .seconds(30)),
            { try await PostgresStore(url: url, timeout: .seconds(30)) }
        )
    }

    /// Every backend the suite runs against.
    static let all: [Backend] = [.sqlite, .postgres]
}

enum Sample {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000.125)

    static func ministry(_ name: String, rv: Int64 = 1) -> Ministry {
        Ministry(
            metadata: ObjectMeta(name: name, resourceVersion: rv, generation: 1, createdAt: t0, updatedAt: t0),
            spec: MinistrySpec(
                code: "GOV-\(name.uppercased().prefix(6))", displayName: LocalizedName(en: name, ar: "وزارة"),
                quota: Resources(cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 0, instances: 10),
                cohort: "shared", lendingLimit: ResourceLimits(cpuMillis: 1000)),
            status: MinistryStatus(
                effectiveQuota: Resources(cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 0, instances: 10)))
    }

    static func application(_ ministry: String, _ name: String, rv: Int64 = 1) -> Application {
        Application(
            metadata: ObjectMeta(
                name: name, ministry: ministry, labels: ["tier": "web"], resourceVersion: rv, generation: 1,
                createdAt: t0, updatedAt: t0),
            spec: ApplicationSpec(
                replicas: 2, resources: ResourceRequest(cpuMillis: 500, memoryBytes: 256 << 20),
                run: RunSpec(command: ["/bin/sh", "-c", "sleep 1000"], env: ["MODE": "test"])))
    }

    static func instance(_ id: String, node: String? = nil) -> Instance {
        Instance(
            id: id, ministry: "health", application: "portal", node: node, phase: .pending,
            reason: "waiting", resources: ResourceRequest(cpuMillis: 500, memoryBytes: 256 << 20), createdAt: t0)
    }

    /// An instance on its way out: what it waits for must survive a restart of the controller.
    static var leaving: Instance {
        var instance = instance("health-portal-3", node: "n1")
        instance.phase = .terminating
        instance.terminating = Instance.Terminating(since: t0, endpointsVersion: 41, drainTimeoutMilliseconds: 30_000)
        return instance
    }

    static func token(_ id: String) -> TokenRecord {
        TokenRecord(
            id: id, subject: "amal", role: .ministryAdmin, ministry: "health", hash: String(repeating: "ab", count: 32),
            createdAt: t0, expiresAt: t0.addingTimeInterval(86400), createdBy: "admin")
    }

    static func audit(_ action: String) -> AuditRecord {
        AuditRecord(
            time: t0, requestID: "req-1", subject: "admin", role: "operator", action: action,
            object: "Ministry/health", result: "created")
    }

    static func request(_ name: String) -> CapacityRequest {
        CapacityRequest(
            metadata: ObjectMeta(name: name, ministry: "health", resourceVersion: 1, generation: 1),
            spec: CapacityRequestSpec(add: ResourceLimits(cpuMillis: 2000), reason: "season", until: t0),
            status: CapacityRequestStatus(phase: .pending, requestedBy: "amal"))
    }

    /// A changeset that writes one of every kind.
    static var everything: Changeset {
        Changeset(
            basedOn: 0, resourceVersion: 1, instanceSerial: 2,
            mutations: [
                .putMinistry(ministry("health")), .putMinistry(ministry("finance")),
                .putApplication(application("health", "portal")), .putCapacityRequest(request("health-2027")),
                .putInstance(instance("health-portal-1")), .putInstance(instance("health-portal-2", node: "n1")),
                .putInstance(leaving), .putToken(token("t1")),
                .putNode(
                    Node(
                        name: "n1", phase: .ready, agentLabels: ["zone": "a"], operatorLabels: ["disk": "ssd"],
                        taints: [Taint(key: "dedicated", value: "health", effect: .noSchedule)],
                        capacity: Resources(
                            cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 1 << 40, instances: 50),
                        enforcement: .cgroupV1)),
            ],
            audit: [audit("apply"), audit("apply")])
    }
}

@Suite("Store conformance: every backend behaves the same")
struct StoreConformance {
    @Test("a new store is empty at version 0", arguments: Backend.all)
    func newStoreIsEmpty(backend: Backend) async throws {
        let (store, _) = try await backend.make()
        #expect(try await store.load() == StoredState())
        #expect(try await store.audit(after: 0, limit: 10).isEmpty)
        try await store.close()
    }

    @Test("what is committed is what is loaded, also after reopening", arguments: Backend.all)
    func roundTrip(backend: Backend) async throws {
        let (store, reopen) = try await backend.make()
        let changeset = Sample.everything
        try await store.commit(changeset)
        let expected = StoredState().applying(changeset)
        #expect(try await store.load() == expected)
        try await store.close()
        let again = try await reopen()
        #expect(try await again.load() == expected)
        #expect(try await again.audit(after: 0, limit: 10).count == 2)
        try await again.close()
    }

    @Test("deletions and replacements take effect", arguments: Backend.all)
    func deletions(backend: Backend) async throws {
        let (store, _) = try await backend.make()
        try await store.commit(Sample.everything)
        var replaced = Sample.application("health", "portal", rv: 2)
        replaced.spec.replicas = 5
        let second = Changeset(
            basedOn: 1, resourceVersion: 2,
            mutations: [
                .deleteMinistry("finance"), .putApplication(replaced), .deleteCapacityRequest("health-2027"),
                .deleteInstance("health-portal-1"), .deleteInstance("health-portal-3"),
                .deleteApplication(ministry: "nowhere", name: "none"), .deleteNode("n1"),
            ])
        try await store.commit(second)
        let loaded = try await store.load()
        #expect(loaded == StoredState().applying(Sample.everything).applying(second))
        #expect(loaded.ministries.keys.sorted() == ["health"])
        #expect(loaded.applications["health/portal"]?.spec.replicas == 5)
        #expect(loaded.instances.keys.sorted() == ["health-portal-2"])
        #expect(loaded.capacityRequests.isEmpty)
        #expect(loaded.nodes.isEmpty)
        #expect(loaded.instances(onNode: "n1").map(\.id) == ["health-portal-2"], "the index follows the instances")
        try await store.close()
    }

    @Test("a changeset computed from an older version is refused whole", arguments: Backend.all)
    func staleChangesetIsRefused(backend: Backend) async throws {
        let (store, _) = try await backend.make()
        try await store.commit(Sample.everything)
        let stale = Changeset(
            basedOn: 0, resourceVersion: 2, mutations: [.deleteMinistry("health")], audit: [Sample.audit("delete")])
        await #expect(throws: StoreError.self) { try await store.commit(stale) }
        let loaded = try await store.load()
        #expect(loaded.resourceVersion == 1)
        #expect(loaded.ministries["health"] != nil)
        #expect(try await store.audit(after: 0, limit: 10).count == 2)
        try await store.close()
    }

    @Test("the version only moves forward and the instance serial never goes back", arguments: Backend.all)
    func countersOnlyMoveForward(backend: Backend) async throws {
        let (store, _) = try await backend.make()
        try await store.commit(Sample.everything)
        await #expect(throws: StoreError.self) {
            try await store.commit(Changeset(basedOn: 1, resourceVersion: 1, mutations: [.deleteMinistry("health")]))
        }
        await #expect(throws: StoreError.self) {
            try await store.commit(Changeset(basedOn: 1, resourceVersion: 2, instanceSerial: 1))
        }
        #expect(try await store.load() == StoredState().applying(Sample.everything))
        try await store.commit(Changeset(basedOn: 1, resourceVersion: 7, instanceSerial: 9))
        let loaded = try await store.load()
        #expect(loaded.resourceVersion == 7)
        #expect(loaded.instanceSerial == 9)
        try await store.close()
    }

    @Test("audit records get increasing positions and page in order", arguments: Backend.all)
    func auditPaging(backend: Backend) async throws {
        let (store, _) = try await backend.make()
        for i in 0..<25 {
            try await store.commit(Changeset(basedOn: 0, audit: [Sample.audit("a\(i)")]))
        }
        #expect(try await store.load().resourceVersion == 0, "audit-only commits do not move the version")
        let first = try await store.audit(after: 0, limit: 10)
        let second = try await store.audit(after: first.last?.seq ?? 0, limit: 100)
        #expect(first.count == 10)
        #expect(second.count == 15)
        let all = first + second
        #expect(all.map(\.action) == (0..<25).map { "a\($0)" })
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.seq < $1.seq })
        #expect(all[0].time == Sample.t0)
        #expect(all[0].subject == "admin" && all[0].result == "created" && all[0].requestID == "req-1")
        try await store.close()
    }

    @Test(
        "events are appended with their change and found by object, ministry and readable ministries",
        arguments: Backend.all)
    func events(backend: Backend) async throws {
        let (store, _) = try await backend.make()
        func event(_ kind: String, _ ministry: String?, _ name: String, _ reason: String) -> Event {
            Event(
                time: Sample.t0, kind: kind, ministry: ministry, name: name, reason: reason,
                message: "\(reason) \(name)")
        }
        try await store.commit(
            Changeset(
                basedOn: 0, resourceVersion: 1, mutations: [.putMinistry(Sample.ministry("health"))],
                events: [
                    event("Instance", "health", "health-portal-1", "Scheduled"), event("Node", nil, "n1", "NotReady"),
                    event("Instance", "finance", "finance-api-2", "Preempted"),
                    event("Instance", "health", "health-portal-1", "Lost"),
                ]))
        let portal = try await store.events(
            kind: "Instance", ministry: nil, name: "health-portal-1", ministries: nil, limit: 10)
        #expect(portal.map(\.reason) == ["Scheduled", "Lost"])
        #expect(portal[0].seq < portal[1].seq && portal[0].time == Sample.t0 && portal[0].ministry == "health")
        let readable = try await store.events(kind: nil, ministry: nil, name: nil, ministries: ["health"], limit: 10)
        #expect(readable.map(\.reason) == ["Scheduled", "NotReady", "Lost"])
        let newest = try await store.events(kind: nil, ministry: nil, name: nil, ministries: nil, limit: 2)
        #expect(newest.map(\.reason) == ["Preempted", "Lost"])
        #expect(
            try await store.events(kind: nil, ministry: "finance", name: nil, ministries: nil, limit: 10).count == 1)
        try await store.close()
    }

    @Test("usage intervals are stored with their change and found by overlap", arguments: Backend.all)
    func usage(backend: Backend) async throws {
        let (store, reopen) = try await backend.make()
        func record(_ id: String, _ from: TimeInterval, _ to: TimeInterval) -> UsageRecord {
            UsageRecord(
                ministry: "health", application: "portal", instance: id, guaranteed: id != "b", from: Sample.t0 + from,
                to: Sample.t0 + to, cpuMillis: 250, memoryBytes: 1 << 28, storageBytes: 0)
        }
        var changeset = Changeset(basedOn: 0)
        changeset.usage = [record("a", 0, 100), record("b", 50, 150), record("c", 200, 300)]
        try await store.commit(changeset)
        let overlapping = try await store.usage(from: Sample.t0 + 120, to: Sample.t0 + 250)
        #expect(overlapping.map(\.instance) == ["b", "c"])
        #expect(overlapping[0] == record("b", 50, 150), "exact to the millisecond")
        try await store.close()
        let again = try await reopen()
        #expect(try await again.usage(from: Sample.t0, to: Sample.t0 + 1000).count == 3)
        try await again.close()
    }

    @Test(
        "usage intervals that ended before a time fold into exact per-ministry days, and are removed",
        arguments: Backend.all)
    func usageRollUp(backend: Backend) async throws {
        let (store, reopen) = try await backend.make()
        let midnight = Date(timeIntervalSince1970: 1_800_057_600)  // a UTC midnight
        func record(
            _ id: String, _ ministry: String, _ from: TimeInterval, _ to: TimeInterval, guaranteed: Bool = true
        )
            -> UsageRecord
        {
            UsageRecord(
                ministry: ministry, application: "portal", instance: id, guaranteed: guaranteed,
                from: midnight + from, to: midnight + to, cpuMillis: 250, memoryBytes: 1 << 40, storageBytes: 7)
        }
        // One across midnight, one borrowed, one of another ministry, one still recent.
        let records = [
            record("a", "health", -3600.5, 7200.9), record("b", "health", 100, 200, guaranteed: false),
            record("c", "finance", 10, 20), record("d", "health", 8000, 9000),
        ]
        var changeset = Changeset(basedOn: 0)
        changeset.usage = records
        try await store.commit(changeset)
        #expect(try await store.rollUpUsage(endedBefore: midnight + 7500, limit: 2) == 2)
        #expect(try await store.rollUpUsage(endedBefore: midnight + 7500, limit: 2) == 1)
        #expect(try await store.rollUpUsage(endedBefore: midnight + 7500, limit: 2) == 0, "nothing left to fold")
        #expect(try await store.usage(from: .distantPast, to: .distantFuture).map(\.instance) == ["d"])
        let days = try await store.usageDays(from: midnight - 86400, to: midnight + 86400)
        #expect(Set(days) == Set(UsageDay.fold(records.prefix(3))))
        let health = try #require(days.first { $0.ministry == "health" && $0.day == 1_800_057_600 && $0.guaranteed })
        #expect(health.instanceSeconds == 7200 && health.cpuMillicoreSeconds == 250 * 7200)
        #expect(health.memoryByteSeconds == Decimal(1 << 40) * 7200, "exact beyond 64 bits")
        // Folding more adds to the days kept.
        var more = Changeset(basedOn: 0)
        more.usage = [record("e", "finance", 30, 40), record("f", "finance", 50, 60)]
        try await store.commit(more)
        #expect(try await store.rollUpUsage(endedBefore: midnight + 7500, limit: 100) == 2)
        try await store.close()
        let again = try await reopen()
        let finance = try await again.usageDays(from: midnight, to: midnight + 1).filter { $0.ministry == "finance" }
        #expect(finance.map(\.instanceSeconds) == [30])
        #expect(try await again.usageDays(from: midnight + 86400, to: midnight + 2 * 86400).isEmpty)
        try await again.close()
    }

    @Test(
        "the audit log leaves the store only through a checkpoint, and the chain goes on after it",
        arguments: Backend.all)
    func auditRemoval(backend: Backend) async throws {
        let (store, reopen) = try await backend.make()
        for i in 0..<4 { try await store.commit(Changeset(basedOn: 0, audit: [Sample.audit("a\(i)")])) }
        #expect(try await store.auditArchived() == nil)
        await #expect(throws: StoreError.self, "not a checkpoint") { try await store.removeAudit(through: 2) }
        await #expect(throws: StoreError.self, "not in the store") { try await store.removeAudit(through: 99) }
        #expect(try await store.audit(after: 0, limit: 10).count == 4, "a refusal removes nothing")
        let head = try #require(await store.auditHead())
        try await store.commit(
            Changeset(
                basedOn: 0,
                audit: [try AuditChain.checkpoint(of: head, key: P256.Signing.PrivateKey(), at: Sample.t0)]))
        let checkpoint = try #require(await store.auditHead())
        #expect(checkpoint.seq == 5)
        try await store.removeAudit(through: 5)
        #expect(try await store.audit(after: 0, limit: 10).isEmpty)
        #expect(try await store.auditArchived() == checkpoint)
        try await store.close()
        // Reopened with every record archived, the next record still follows the last one.
        let again = try await reopen()
        #expect(await again.auditHead() == checkpoint)
        try await again.commit(Changeset(basedOn: 0, audit: [Sample.audit("after")]))
        let next = try await again.audit(after: 0, limit: 10)
        #expect(next.map(\.seq) == [6] && next.first?.prevHash == checkpoint.hash)
        await #expect(throws: StoreError.self, "behind the archive") { try await again.removeAudit(through: 5) }
        try await again.close()
    }

    @Test("of concurrent commits from the same version exactly one wins", arguments: Backend.all)
    func concurrentCommits(backend: Backend) async throws {
        let (store, _) = try await backend.make()
        let wins = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask {
                    let changeset = Changeset(
                        basedOn: 0, resourceVersion: 1, mutations: [.putMinistry(Sample.ministry("m\(i)"))])
                    do {
                        try await store.commit(changeset)
                        return true
                    } catch { return false }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await store.load().ministries.count == 1)
        try await store.close()
    }

    @Test("a closed store refuses calls", arguments: Backend.all)
    func closedStoreRefuses(backend: Backend) async throws {
        let (store, _) = try await backend.make()
        try await store.close()
        await #expect(throws: (any Error).self) { _ = try await store.load() }
    }
}

@Suite("SQLite store specifics")
struct SQLiteStoreTests {
    @Test("closing the store leaves no -wal or -shm file behind")
    func closeCheckpoints() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-close-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("tansiq.db").path
        let store = try SQLiteStore(path: path)
        try await store.commit(Sample.everything)
        _ = try await store.load()
        try await store.close()
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
    }

    @Test("a store keeps the newest maxEvents events: at most a thousand more before it prunes")
    func eventsAreBounded() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-events-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: dir.appendingPathComponent("tansiq.db").path, maxEvents: 1000)
        for batch in 0..<40 {
            let events = (0..<100).map { i in
                Event(
                    time: Sample.t0, kind: "Node", ministry: nil, name: "n\(batch)-\(i)", reason: "Ready", message: "-")
            }
            try await store.commit(Changeset(basedOn: 0, events: events))
        }
        let kept = try await store.events(kind: nil, ministry: nil, name: nil, ministries: nil, limit: 10_000)
        #expect(kept.count >= 1000 && kept.count <= 2000, "kept \(kept.count) of 4000")
        #expect(kept.last?.name == "n39-99", "the newest stay")
        try await store.close()
    }
}

@Suite("SQLite store: the WAL's size")
struct SQLiteWALTests {
    @Test("a WAL grown past its checkpoint while a reader held it back is cut back to its limit once it restarts")
    func walLimited() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-wal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tansiq.db").path
        let store = try SQLiteStore(path: path)
        // Another connection reads and stays in its transaction: no checkpoint can pass it, and the
        // WAL grows past the 1,000 pages at which it would start over.
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let reader = try DatabaseQueue(path: path, configuration: configuration)
        try reader.inDatabase { db in
            try db.execute(sql: "BEGIN")
            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM events")
        }
        let message = String(repeating: "x", count: 2000)
        for batch in 0..<30 {
            let events = (0..<100).map { i in
                Event(
                    time: Sample.t0, kind: "Node", ministry: nil, name: "n\(batch)-\(i)", reason: "Ready",
                    message: message)
            }
            try await store.commit(Changeset(basedOn: 0, events: events))
        }
        let grown = Self.size(path + "-wal")
        #expect(grown > 8 << 20, "the reader held the WAL back: \(grown) bytes")
        try reader.inDatabase { db in try db.execute(sql: "COMMIT") }
        try reader.close()
        // Writes go on: a checkpoint completes, the WAL starts over, and its file is cut back.
        for i in 0..<20 { try await store.commit(Changeset(basedOn: 0, audit: [Sample.audit("after-\(i)")])) }
        let after = Self.size(path + "-wal")
        #expect(after <= SQLiteStore.walSizeLimit, "the WAL is back under its limit: \(after) of \(grown) bytes")
        try await store.close()
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
    }
}
