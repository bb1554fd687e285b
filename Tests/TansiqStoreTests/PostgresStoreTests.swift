import Foundation
import TansiqModel
import TansiqTestSupport
import Testing

@testable import TansiqStore

/// What only the PostgreSQL store has: the leader lease and the fence of every commit, the
/// append-only audit table, and its address.
@Suite("PostgreSQL store specifics")
struct PostgresStoreTests {
    /// A call's deadline with room for a loaded machine (10 s was once not enough for the first
    /// connection and migration while the whole suite started beside it).
    static let deadline = Duration.seconds(30)

    static func fresh(requireFence: Bool = true) async throws -> (PostgresStore, PostgresURL, String) {
        let server = try await LivePostgres.shared.value
        let text = try await server.database()
        let url = try PostgresURL(text)
        return (
            try await PostgresStore(url: url, requireFence: requireFence, timeout: Self.deadline), url, url.database
        )
    }

    static func ministry(_ name: String, basedOn: Int64) -> Changeset {
        Changeset(
            basedOn: basedOn, resourceVersion: basedOn + 1, mutations: [.putMinistry(Sample.ministry(name))],
            audit: [Sample.audit("apply")])
    }

    @Test("the lease is taken once it has expired, each takeover a higher epoch, renewed only by its holder")
    func leaseTakeover() async throws {
        let (a, url, _) = try await Self.fresh()
        let b = try await PostgresStore(url: url, requireFence: true, timeout: Self.deadline)
        let first = try #require(try await a.acquire(holder: "a", url: "https://a:1", ttl: .seconds(2)))
        #expect(first.epoch == 1)
        #expect(try await b.acquire(holder: "b", url: "https://b:1", ttl: .seconds(10)) == nil, "held: not taken")
        let view = try await b.lease()
        #expect(view.holder == "a" && view.url == "https://a:1" && view.epoch == 1 && view.isHeld)
        #expect(try await a.renew(first, ttl: .seconds(2)))
        #expect(!(try await b.renew(Fence(holder: "b", epoch: 1), ttl: .seconds(10))), "not b's to renew")
        try await Task.sleep(for: .milliseconds(2200))
        #expect(!(try await a.lease().isHeld))
        let second = try #require(try await b.acquire(holder: "b", url: "https://b:1", ttl: .seconds(10)))
        #expect(second.epoch == 2)
        #expect(!(try await a.renew(first, ttl: .seconds(10))), "a deposed leader cannot renew")
        try await b.release(second)
        #expect(!(try await a.lease().isHeld), "released: free at once")
        try await a.close()
        try await b.close()
    }

    @Test("a commit lands only under the lease it names: a deposed or lease-less leader commits nothing")
    func fencedCommits() async throws {
        let (a, url, _) = try await Self.fresh()
        let b = try await PostgresStore(url: url, requireFence: true, timeout: Self.deadline)
        await #expect(throws: StoreError.fenced("this controller holds no lease")) {
            try await a.commit(Self.ministry("health", basedOn: 0))
        }
        // A lease of 2 s: the store waits a third of it for the database, which a machine busy with
        // the rest of the suite needs.
        let first = try #require(try await a.acquire(holder: "a", url: "https://a:1", ttl: .seconds(2)))
        a.hold(first)
        try await a.commit(Self.ministry("health", basedOn: 0))
        try await Task.sleep(for: .milliseconds(2200))
        // Expired, not yet taken: still no commit.
        await #expect(throws: StoreError.self) { try await a.commit(Self.ministry("finance", basedOn: 1)) }
        let second = try #require(try await b.acquire(holder: "b", url: "https://b:1", ttl: .seconds(10)))
        b.hold(second)
        let state = try await b.load()
        #expect(state.resourceVersion == 1 && state.ministries["health"] != nil, "the new leader reads what landed")
        await #expect(throws: StoreError.fenced("the lease of epoch 1 is no longer this controller's")) {
            try await a.commit(Self.ministry("finance", basedOn: 1))
        }
        try await b.commit(Self.ministry("finance", basedOn: 1))
        let audit = try await b.audit(after: 0, limit: 10)
        #expect(audit.map(\.seq) == [1, 2], "the new leader chains after the records the old one wrote")
        #expect(try await AuditChainTests.verify(b).ok)
        #expect(try await b.load().ministries.keys.sorted() == ["finance", "health"])
        try await a.close()
        try await b.close()
    }

    @Test("a takeover waits for the commit that holds the lease row, and reads it")
    func takeoverFollowsCommitInFlight() async throws {
        let (a, url, _) = try await Self.fresh()
        let b = try await PostgresStore(url: url, requireFence: true, timeout: Self.deadline)
        // A lease of 3 s: taking it must answer within a third (1 s), with room on a loaded machine.
        let first = try #require(try await a.acquire(holder: "a", url: "u", ttl: .seconds(3)))
        a.hold(first)
        var version: Int64 = 0
        // Commits keep landing until the lease runs out; none after b holds it.
        let writer = Task {
            var landed: [Int64] = []
            for _ in 0..<400 {
                do {
                    try await a.commit(Self.ministry("m\(version)", basedOn: version))
                    version += 1
                    landed.append(version)
                } catch { break }
            }
            return landed
        }
        var second: Fence?
        while second == nil {
            second = try await b.acquire(holder: "b", url: "u", ttl: .seconds(10))
            try await Task.sleep(for: .milliseconds(20))
        }
        let loaded = try await b.load()
        let landed = await writer.value
        #expect(!landed.isEmpty)
        #expect(loaded.resourceVersion == landed.last, "every commit that returned is in what the new leader read")
        #expect(loaded.ministries.count == landed.count)
        try await a.close()
        try await b.close()
    }

    @Test("the controller's role cannot change, remove or truncate audit records")
    func auditIsAppendOnly() async throws {
        let (store, _, database) = try await Self.fresh(requireFence: false)
        try await store.commit(Changeset(basedOn: 0, audit: [Sample.audit("a"), Sample.audit("b")]))
        let server = try await LivePostgres.shared.value
        for statement in [
            "UPDATE audit SET subject = 'someone' WHERE seq = 1", "DELETE FROM audit WHERE seq = 2",
            "TRUNCATE audit",
        ] {
            let result = try await server.psql(database, statement)
            #expect(result.status != 0, "\(statement) was allowed")
            #expect(result.stderr.contains("the audit log is append-only"), "\(result.stderr)")
        }
        #expect(try await store.audit(after: 0, limit: 10).map(\.action) == ["a", "b"])
        try await store.close()
    }

    @Test("an edited, deleted or inserted audit row in the database is named by the verifier")
    func auditTamperingIsFound() async throws {
        let (store, url, database) = try await Self.fresh(requireFence: false)
        for i in 0..<6 { try await store.commit(Changeset(basedOn: 0, audit: [Sample.audit("a\(i)")])) }
        try await AuditChainTests.checkpoint(store)
        try await store.close()
        let server = try await LivePostgres.shared.value
        func tamper(_ sql: String) async throws {
            let result = try await server.psql(
                database,
                "ALTER TABLE audit DISABLE TRIGGER USER; \(sql); ALTER TABLE audit ENABLE TRIGGER USER")
            #expect(result.status == 0, "\(result.stderr)")
        }
        func verdict() async throws -> AuditVerification.Problem? {
            let again = try await PostgresStore(url: url, timeout: Self.deadline)
            let report = try await AuditChainTests.verify(again)
            try await again.close()
            return report.problem
        }
        try await tamper("UPDATE audit SET subject = 'mallory' WHERE seq = 2")
        #expect(try await verdict()?.seq == 2)
        try await tamper("UPDATE audit SET subject = 'admin' WHERE seq = 2")
        #expect(try await verdict() == nil, "restored")
        try await tamper("DELETE FROM audit WHERE seq = 4")
        #expect(try await verdict()?.seq == 4)
    }

    @Test("a store URL is checked: scheme, user, host, database and parameters, never echoing a password")
    func urls() throws {
        let url = try PostgresURL("postgres://tansiq:s3cret@db.example:6432/cluster?sslmode=require")
        #expect(url.user == "tansiq" && url.password == "s3cret" && url.host == "db.example" && url.port == 6432)
        #expect(url.database == "cluster" && url.tls == .require)
        #expect(url.description == "postgres://tansiq@db.example:6432/cluster")
        #expect(try PostgresURL("postgresql://u@h/d", environment: ["PGPASSWORD": "p"]).password == "p")
        for bad in [
            "mysql://u@h/d", "postgres://h/d", "postgres://u@/d", "postgres://u@h", "postgres://u@h/d?sslmode=maybe",
            "postgres://u@h/d?foo=1", "postgres://u:hunter2@h",
        ] {
            #expect(throws: StoreError.self) { try PostgresURL(bad) }
            do { _ = try PostgresURL(bad) } catch { #expect(!"\(error)".contains("hunter2")) }
        }
    }

    @Test("a database that cannot be reached is an error within the timeout, not a hang")
    func unreachable() async throws {
        let port = try LiveRegistry.freePort()
        let start = ContinuousClock.now
        let error = await #expect(throws: StoreError.self) {
            _ = try await PostgresStore(url: try PostgresURL("postgres://u@127.0.0.1:\(port)/d"), timeout: .seconds(2))
        }
        // The store's own deadline answered, saying what it waited for (not a hang ended by chance).
        #expect("\(error.map { "\($0)" } ?? "")".contains("did not answer within 2"), "\(String(describing: error))")
        // Bounded by the timeout (2 s); the deadline's task shares the test process's two threads
        // with every test running beside it, which has delayed it past 15 s on a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(40))
    }
}
