import Crypto
import Foundation
import GRDB
import TansiqModel
import Testing

@testable import TansiqStore

/// The audit log's hash chain and signed checkpoints: a record changed, removed or inserted
/// behind the store's back — directly in the SQLite file, triggers dropped — is named.
@Suite("Audit chain")
struct AuditChainTests {
    static let key = P256.Signing.PrivateKey()

    /// A store with `count` records, one commit each, and a checkpoint after record `checkpointAfter`.
    static func log(_ count: Int, checkpointAfter: Int? = nil) async throws -> (SQLiteStore, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("tansiq.db").path
        let store = try SQLiteStore(path: path)
        for i in 1...count {
            var record = Sample.audit("apply")
            record.object = "Application/health/app-\(i)"
            record.message = i % 3 == 0 ? nil : "note \(i)"
            record.time = Sample.t0.addingTimeInterval(Double(i) * 0.001)
            try await store.commit(Changeset(basedOn: 0, audit: [record]))
            if i == checkpointAfter { try await checkpoint(store) }
        }
        return (store, path)
    }

    static func checkpoint(_ store: any Store) async throws {
        let head = try #require(await store.auditHead())
        try await store.commit(
            Changeset(basedOn: 0, audit: [try AuditChain.checkpoint(of: head, key: key, at: Sample.t0)]))
    }

    static func verify(
        _ store: any Store, from: Int64 = 1, key: P256.Signing.PublicKey = key.publicKey
    )
        async throws -> AuditChainVerifier.Report
    {
        var verifier = AuditChainVerifier(key: key, from: from)
        for record in try await store.audit(after: from - 1, limit: 10_000) where !verifier.feed(record) { break }
        return verifier.finish(known: await store.auditHead())
    }

    /// Runs SQL on the file as an intruder would: the append-only triggers dropped first.
    static func tamper(_ path: String, _ sql: String, _ arguments: StatementArguments = []) throws {
        let db = try DatabaseQueue(path: path)
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_update")
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_delete")
            try db.execute(sql: sql, arguments: arguments)
        }
        try db.close()
    }

    @Test("an untouched log verifies, across commits, checkpoints and a reopen")
    func untouched() async throws {
        let (store, path) = try await Self.log(10, checkpointAfter: 6)
        let records = try await store.audit(after: 0, limit: 100)
        #expect(records.map(\.seq) == Array(1...11))
        #expect(records.first?.prevHash == AuditChain.genesis)
        for (a, b) in zip(records, records.dropFirst()) { #expect(b.prevHash == a.hash) }
        #expect(await store.auditHead() == AuditChain.Head(seq: 11, hash: records.last!.hash!))
        let report = try await Self.verify(store)
        #expect(report.ok && report.checked == 11 && report.checkpoints == 1)
        #expect(report.signedThrough == 6 && report.unsigned == 4, "records 8 to 11")
        try await store.close()
        let again = try SQLiteStore(path: path)
        try await again.commit(Changeset(basedOn: 0, audit: [Sample.audit("after-restart")]))
        #expect(try await Self.verify(again).ok)
        #expect(try await Self.verify(again).checked == 12)
        try await again.close()
    }

    @Test("a log written before the chain existed is chained when the store is opened")
    func migrated() async throws {
        let (store, path) = try await Self.log(5)
        try await store.close()
        // Back to the schema before the chain: no hash columns, the migration not yet run.
        try Self.tamper(
            path,
            "ALTER TABLE audit DROP COLUMN prev_hash; ALTER TABLE audit DROP COLUMN hash; "
                + "DELETE FROM grdb_migrations WHERE identifier = 'v6-audit-chain'")
        let again = try SQLiteStore(path: path)
        try await again.commit(Changeset(basedOn: 0, audit: [Sample.audit("after-upgrade")]))
        let report = try await Self.verify(again)
        #expect(report.ok && report.checked == 6)
        try await again.close()
    }

    @Test("a record edited in place is named changed")
    func edited() async throws {
        let (store, path) = try await Self.log(10)
        try Self.tamper(path, "UPDATE audit SET result = 'forbidden' WHERE seq = 4")
        let report = try await Self.verify(store)
        #expect(!report.ok)
        #expect(report.problem?.kind == "changed" && report.problem?.seq == 4)
        #expect(report.checked == 3)
    }

    @Test("a record edited and rehashed is named: its successor no longer follows it")
    func rehashedOne() async throws {
        let (store, path) = try await Self.log(10)
        var forged = try await store.audit(after: 3, limit: 1)[0]
        forged.subject = "someone-else"
        let hash = AuditChain.hash(of: forged, seq: 4, prevHash: forged.prevHash!)
        try Self.tamper(path, "UPDATE audit SET subject = ?, hash = ? WHERE seq = 4", [forged.subject, hash])
        let report = try await Self.verify(store)
        #expect(report.problem?.kind == "changed" && report.problem?.seq == 4)
    }

    @Test("a chain rewritten from a record on is caught by the next checkpoint's signature")
    func rehashedChain() async throws {
        let (store, path) = try await Self.log(12, checkpointAfter: 8)
        let records = try await store.audit(after: 0, limit: 100)
        var previous = records[3].prevHash!
        var rewritten: [AuditRecord] = []
        for var record in records[3...] {
            if record.seq == 4 { record.subject = "someone-else" }
            record.hash = AuditChain.hash(of: record, seq: record.seq, prevHash: previous)
            record.prevHash = previous
            previous = record.hash!
            rewritten.append(record)
        }
        for record in rewritten {
            try Self.tamper(
                path, "UPDATE audit SET subject = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                [record.subject, record.prevHash, record.hash, record.seq])
        }
        let report = try await Self.verify(store)
        #expect(report.problem?.kind == "changed")
        #expect(report.problem?.seq == 1, "the first record the checkpoint's signature covers")
        #expect(report.problem?.message.contains("checkpoint 9") == true)
    }

    @Test("a deleted record is named removed, in the middle or at the end")
    func removed() async throws {
        let (store, path) = try await Self.log(10)
        try Self.tamper(path, "DELETE FROM audit WHERE seq = 5")
        #expect(
            try await Self.verify(store).problem
                == .init(kind: "removed", seq: 5, message: "record 5 is missing: record 6 follows record 4"))
        let (tail, tailPath) = try await Self.log(10)
        try Self.tamper(tailPath, "DELETE FROM audit WHERE seq >= 9")
        let report = try await Self.verify(tail)
        #expect(report.problem?.kind == "removed" && report.problem?.seq == 9)
        // The store goes on numbering after what it wrote: the gap stays visible after new records.
        try await tail.commit(Changeset(basedOn: 0, audit: [Sample.audit("later")]))
        #expect(try await Self.verify(tail).problem?.seq == 9)
    }

    @Test("an inserted record is named inserted, with or without a well-formed hash")
    func inserted() async throws {
        let columns = "(seq, time, request_id, subject, role, action, object, result, message, prev_hash, hash)"
        let (store, path) = try await Self.log(6)
        try Self.tamper(
            path,
            "INSERT INTO audit \(columns) VALUES (7, '2027-01-01T00:00:00.000Z', 'r', 'x', 'operator', "
                + "'apply', 'Ministry/x', 'created', NULL, ?, ?)",
            [String(repeating: "1", count: 64), String(repeating: "2", count: 64)])
        #expect(try await Self.verify(store).problem?.kind == "inserted")
        #expect(try await Self.verify(store).problem?.seq == 7)

        // Well formed: chained to the last record with a correct hash. The store's next record
        // follows what the store wrote, not the intruder's row, which stands out.
        let (other, otherPath) = try await Self.log(6)
        let last = try #require(await other.auditHead())
        let intruder = AuditRecord(
            time: Sample.t0, requestID: "r", subject: "x", role: "operator", action: "apply", object: "Ministry/x",
            result: "created")
        let hash = AuditChain.hash(of: intruder, seq: 7, prevHash: last.hash)
        try Self.tamper(
            otherPath,
            "INSERT INTO audit \(columns) VALUES (7, ?, 'r', 'x', 'operator', 'apply', 'Ministry/x', "
                + "'created', NULL, ?, ?)", [RFC3339.formatMilliseconds(Sample.t0), last.hash, hash])
        try await other.commit(Changeset(basedOn: 0, audit: [Sample.audit("next")]))
        let report = try await Self.verify(other)
        #expect(report.problem?.kind == "inserted" && report.problem?.seq == 7)
        #expect(try await other.audit(after: 7, limit: 1).first?.seq == 8, "the store never overwrites a row")
    }

    @Test("a checkpoint signed with another key is named changed")
    func forgedCheckpoint() async throws {
        let (store, _) = try await Self.log(4, checkpointAfter: 4)
        #expect(try await Self.verify(store).ok)
        let report = try await Self.verify(store, key: P256.Signing.PrivateKey().publicKey)
        #expect(report.problem?.kind == "changed" && report.problem?.seq == 5)
    }

    @Test("--from checks from that record on, taking the one before as given")
    func fromLater() async throws {
        let (store, path) = try await Self.log(10)
        try Self.tamper(path, "UPDATE audit SET result = 'forbidden' WHERE seq = 2")
        let later = try await Self.verify(store, from: 5)
        #expect(later.ok && later.from == 5 && later.checked == 6)
        #expect(try await Self.verify(store, from: 1).problem?.seq == 2)
    }
}
