import Foundation
import GRDB
import TansiqAPI
import TansiqTestSupport
import Testing

/// `tansiq audit verify` against a real controller whose SQLite file is changed behind its back.
@Suite("tansiq audit verify")
struct AuditVerifyTests {
    static func lastAudit(_ live: LiveController) async throws -> [AuditRecordView] {
        try await live.typed(.GET, "/v1/audit?limit=5000", as: AuditPageView.self).items
    }

    struct AuditPageView: Decodable { var items: [AuditRecordView] }
    struct AuditRecordView: Decodable {
        var seq: Int64
        var action: String
        var object: String
        var hash: String?
    }

    @Test("verifies a live log with its signed checkpoints; names a changed, a removed and an inserted record")
    func verify() async throws {
        try await LiveController.with(arguments: ["--audit-checkpoint", "1s"]) { live in
            let config = live.dataDir + "-cli.yaml"
            let admin = ClusterCommandTests.environment(live, token: live.operatorToken, config: config)
            let manifests = packageRoot.appendingPathComponent("manifests").path
            #expect(
                try await ClusterCommandTests.tansiq(["apply", "-f", manifests + "/ministries.yaml"], admin).status == 0
            )
            let issued = try await ClusterCommandTests.tansiq(
                ["token", "create", "--subject", "rana", "--role", "auditor"], admin)
            let auditor = ClusterCommandTests.environment(
                live, token: issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines), config: config)
            let viewer = try await ClusterCommandTests.tansiq(
                ["token", "create", "--subject", "hala", "--role", "ministry-viewer", "-m", "health"], admin)
            let ministry = ClusterCommandTests.environment(
                live, token: viewer.stdout.trimmingCharacters(in: .whitespacesAndNewlines), config: config)

            let refused = try await ClusterCommandTests.tansiq(["audit", "verify"], ministry)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("may not verify the audit log"), "\(refused.stderr)")

            // A checkpoint signs the head within about a second (the refusal above is audited too).
            let deadline = Date().addingTimeInterval(15)
            while try await Self.lastAudit(live).last?.action != "audit.checkpoint", Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            let records = try await Self.lastAudit(live)
            #expect(records.last?.action == "audit.checkpoint", "a checkpoint was written")
            #expect(records.allSatisfy { $0.hash?.count == 64 }, "every record carries its hash")

            let verified = try await ClusterCommandTests.tansiq(["audit", "verify"], auditor)
            #expect(verified.status == 0, "\(verified.stderr)")
            #expect(verified.stdout.hasPrefix("audit log verified: "))
            #expect(
                verified.stdout.contains(" signed checkpoints, signed through record ")
                    && !verified.stdout.contains(" 0 signed checkpoints"), "at least one checkpoint verified")
            #expect(try await ClusterCommandTests.tansiq(["audit", "verify", "--from", "0"], auditor).status == 2)

            // Changed behind the controller's back, triggers dropped: named, exit 1.
            let database = live.dataDir + "/tansiq.db"
            let target = try #require(records.first { $0.object.hasPrefix("Ministry/") })
            try Self.sql(database, "UPDATE audit SET result = 'unchanged' WHERE seq = \(target.seq)")
            let changed = try await ClusterCommandTests.tansiq(["audit", "verify"], auditor)
            #expect(changed.status == 1)
            #expect(changed.stderr.contains("audit log: record \(target.seq) changed"), "\(changed.stderr)")
            #expect(changed.stdout.isEmpty)
            let later = try await ClusterCommandTests.tansiq(
                ["audit", "verify", "--from", String(target.seq + 1)], auditor)
            #expect(later.status == 0, "records after it still verify: \(later.stderr)")

            // Inserted: a row the controller never wrote, after its last one.
            let head = try #require(records.last)
            try Self.sql(
                database,
                "INSERT INTO audit (seq, time, request_id, subject, role, action, object, result, prev_hash, hash) "
                    + "VALUES (\(head.seq + 1), '2027-01-01T00:00:00.000Z', 'r', 'x', 'operator', 'apply', "
                    + "'Ministry/x', 'created', '', '')")
            let inserted = try await ClusterCommandTests.tansiq(
                ["audit", "verify", "--from", String(target.seq + 1)], auditor)
            #expect(inserted.status == 1)
            #expect(inserted.stderr.contains("record \(head.seq + 1) inserted"), "\(inserted.stderr)")

            // Removed: the last record the controller wrote is gone (and the intruder's with it).
            try Self.sql(database, "DELETE FROM audit WHERE seq >= \(head.seq)")
            let removed = try await ClusterCommandTests.tansiq(
                ["audit", "verify", "--from", String(target.seq + 1)], auditor)
            #expect(removed.status == 1)
            #expect(removed.stderr.contains("record \(head.seq) removed"), "\(removed.stderr)")
        }
    }

    @Test("a controller stopped with SIGTERM signs its last records before it exits")
    func checkpointAtShutdown() async throws {
        try await LiveController.with { live in
            let config = live.dataDir + "-cli.yaml"
            let admin = ClusterCommandTests.environment(live, token: live.operatorToken, config: config)
            let manifests = packageRoot.appendingPathComponent("manifests").path
            #expect(
                try await ClusterCommandTests.tansiq(["apply", "-f", manifests + "/ministries.yaml"], admin).status == 0
            )
            #expect(try await Self.lastAudit(live).last?.action == "apply", "no checkpoint yet (one a minute)")
            #expect(try await live.stop() == 0)
            try await live.start()
            let records = try await Self.lastAudit(live)
            let checkpoint = try #require(records.last)
            #expect(checkpoint.action == "audit.checkpoint")
            #expect(checkpoint.object == "Audit/\(checkpoint.seq - 1)", "it signs the record before it")
            let verified = try await ClusterCommandTests.tansiq(["audit", "verify"], admin)
            #expect(verified.status == 0, "\(verified.stderr)")
            #expect(verified.stdout.contains("0 since the last checkpoint"), "\(verified.stdout)")
        }
    }

    @Test("records past --audit-archive-after move to the archive through a checkpoint; verify walks both")
    func archive() async throws {
        try await LiveController.with(arguments: [
            "--audit-checkpoint", "1s", "--audit-archive-after", "1s", "--retention", "1s",
        ]) { live in
            let config = live.dataDir + "-cli.yaml"
            let admin = ClusterCommandTests.environment(live, token: live.operatorToken, config: config)
            let manifests = packageRoot.appendingPathComponent("manifests").path
            #expect(
                try await ClusterCommandTests.tansiq(["apply", "-f", manifests + "/ministries.yaml"], admin).status == 0
            )
            let archive = live.dataDir + "/audit-archive"
            let deadline = Date().addingTimeInterval(20)
            var first: Int64 = 1
            while Date() < deadline {
                first = try await Self.lastAudit(live).first?.seq ?? Int64.max
                if first > 2 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(first > 2, "the store no longer holds the first records")
            let files = try FileManager.default.contentsOfDirectory(atPath: archive).sorted()
            #expect(files.first?.hasPrefix("audit-00000000000000000001-") == true, "\(files)")
            #expect(files.allSatisfy { $0.hasSuffix(".jsonl") }, "no part file left: \(files)")
            let verified = try await ClusterCommandTests.tansiq(["audit", "verify"], admin)
            #expect(verified.status == 0, "\(verified.stderr)")
            #expect(verified.stdout.contains(" records (1 to "), "\(verified.stdout)")

            // A restarted controller chains after the archive.
            #expect(try await live.stop() == 0)
            try await live.start()
            #expect(try await ClusterCommandTests.tansiq(["audit", "verify"], admin).status == 0)

            // An archived record changed is named; so is an archive file gone.
            let path = archive + "/" + files[0]
            let original = try String(contentsOfFile: path, encoding: .utf8)
            try original.replacingOccurrences(of: "\"result\":\"created\"", with: "\"result\":\"unchanged\"")
                .write(toFile: path, atomically: true, encoding: .utf8)
            let changed = try await ClusterCommandTests.tansiq(["audit", "verify"], admin)
            #expect(changed.status == 1)
            #expect(changed.stderr.contains(" changed"), "\(changed.stderr)")
            try (original + "not a record\n").write(toFile: path, atomically: true, encoding: .utf8)
            let garbled = try await ClusterCommandTests.tansiq(["audit", "verify"], admin)
            #expect(garbled.status == 1)
            #expect(garbled.stderr.contains("the archive cannot be read"), "\(garbled.stderr)")
            try FileManager.default.removeItem(atPath: path)
            let gone = try await ClusterCommandTests.tansiq(["audit", "verify"], admin)
            #expect(gone.status == 1)
            #expect(gone.stderr.contains("record 1 removed") || gone.stderr.contains("records 1 to"), "\(gone.stderr)")
            #expect(gone.stderr.contains("were archived"), "\(gone.stderr)")
        }
    }

    static func sql(_ path: String, _ statement: String) throws {
        let db = try DatabaseQueue(path: path)
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_update")
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_delete")
            try db.execute(sql: statement)
        }
        try db.close()
    }
}
