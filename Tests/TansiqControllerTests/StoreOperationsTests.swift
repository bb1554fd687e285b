import Foundation
import TansiqTestSupport
import Testing

/// `tansiq-controller migrate` (SQLite into PostgreSQL) and `backup` (SQLite online), against
/// real controllers and a real PostgreSQL server.
@Suite("Store operations: migrate and backup", .serialized)
struct StoreOperationsTests {
    /// Answers that must read the same from two controllers over the same data.
    static let paths = [
        "/v1/ministries", "/v1/ministries/health/applications", "/v1/instances", "/v1/quotas", "/v1/tokens",
        "/v1/capacity-requests", "/v1/audit?limit=5000", "/v1/events", "/v1/audit/verify",
        "/v1/usage?from=2020-01-01T00:00:00Z&to=2021-01-01T00:00:00Z",
    ]

    static func populate(_ live: LiveController) async throws {
        #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
        #expect(try await LiveControllerTests.apply(live, Harness.app("health", "portal", replicas: 3)).status == 200)
        #expect(try await LiveControllerTests.apply(live, Harness.app("finance", "ledger", replicas: 1)).status == 200)
        let token = try await live.call(
            .POST, "/v1/tokens", token: live.operatorToken,
            body: #"{"subject": "hala", "role": "ministry-admin", "ministry": "health", "ttl": "30d"}"#)
        #expect(token.status == 201 || token.status == 200, "\(token.body)")
        let request = try await live.call(
            .POST, "/v1/capacity-requests", token: live.operatorToken,
            body:
                #"{"metadata": {"name": "health-2027", "ministry": "health"}, "spec": {"add": {"cpu": "1"}, "reason": "season"}}"#
        )
        #expect(request.status < 300, "\(request.body)")
    }

    static func json(_ reply: Reply) -> NSObject? { reply.json as? NSObject }

    @Test("migrate copies an SQLite cluster into PostgreSQL: every table counted, the same queries answer the same")
    func migrate() async throws {
        let postgres = try await LivePostgres.shared.value
        try await LiveController.with { live in
            try await Self.populate(live)
            try await live.stop()
            let url = try await postgres.database()
            let migrated = try await run("tansiq-controller", ["migrate", "--from", live.dataDir, "--to", url])
            #expect(migrated.status == 0, "\(migrated.stderr)")
            #expect(migrated.stdout.contains("audit"))
            #expect(!migrated.stdout.contains("MISMATCH"), "\(migrated.stdout)")
            // Once more into the same database: refused, nothing changed.
            let again = try await run("tansiq-controller", ["migrate", "--from", live.dataDir, "--to", url])
            #expect(again.status == 1 && again.stderr.contains("already holds a cluster"), "\(again.stderr)")

            let copy = live.dataDir + "-pg"
            try FileManager.default.copyItem(atPath: live.dataDir, toPath: copy)
            try FileManager.default.removeItem(atPath: copy + "/tansiq.db")
            try await live.start()
            let onPostgres = try await LiveController(
                existing: copy, port: try LiveRegistry.freePort(), arguments: ["--store", url])
            do {
                for path in Self.paths {
                    let sqlite = try await live.call(.GET, path, token: live.operatorToken)
                    let pg = try await onPostgres.call(.GET, path, token: live.operatorToken)
                    #expect(sqlite.status == 200 && pg.status == 200, "\(path): \(sqlite.status) \(pg.status)")
                    #expect(Self.json(sqlite) == Self.json(pg), "\(path) differs:\n\(sqlite.body)\n\(pg.body)")
                }
                let verify = try await onPostgres.call(.GET, "/v1/audit/verify", token: live.operatorToken)
                #expect((verify.json as? [String: Any])?["ok"] as? Bool == true, "\(verify.body)")
                // The copy takes writes, chained after the copied log.
                #expect(
                    try await LiveControllerTests.apply(onPostgres, Harness.app("health", "portal", replicas: 1))
                        .status == 200)
                let after = try await onPostgres.call(.GET, "/v1/audit/verify", token: live.operatorToken)
                #expect((after.json as? [String: Any])?["ok"] as? Bool == true, "\(after.body)")
            } catch {
                Issue.record(error)
            }
            await onPostgres.shutdown()
        }
    }

    @Test("migrate refuses a directory without an SQLite store and a malformed URL")
    func migrateRefusals() async throws {
        let missing = try await run(
            "tansiq-controller", ["migrate", "--from", "/nonexistent", "--to", "postgres://u@127.0.0.1/d"])
        #expect(missing.status == 1 && missing.stderr.contains("tansiq.db does not exist"), "\(missing.stderr)")
        let bad = try await run("tansiq-controller", ["migrate", "--from", "/tmp", "--to", "mysql://u@h/d"])
        #expect(bad.status == 2 && bad.stderr.contains("not a postgres:// URL"), "\(bad.stderr)")
    }

    @Test("backup snapshots the SQLite store while the controller serves; the snapshot restores what it held")
    func backup() async throws {
        try await LiveController.with { live in
            try await Self.populate(live)
            let file = live.dataDir + ".backup.db"
            let made = try await run("tansiq-controller", ["backup", "--data-dir", live.dataDir, "--to", file])
            #expect(made.status == 0, "\(made.stderr)")
            let twice = try await run("tansiq-controller", ["backup", "--data-dir", live.dataDir, "--to", file])
            #expect(twice.status == 1 && twice.stderr.contains("refusing to overwrite"), "\(twice.stderr)")
            // A change after the snapshot is not in it.
            #expect(
                try await LiveControllerTests.apply(live, Harness.app("health", "later", replicas: 1)).status == 200)
            let expected = try await live.call(.GET, "/v1/ministries/health/applications", token: live.operatorToken)

            let restored = live.dataDir + "-restored"
            try FileManager.default.copyItem(atPath: live.dataDir, toPath: restored)
            try FileManager.default.removeItem(atPath: restored + "/tansiq.db")
            for suffix in ["-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: restored + "/tansiq.db" + suffix)
            }
            try FileManager.default.copyItem(atPath: file, toPath: restored + "/tansiq.db")
            let back = try await LiveController(existing: restored, port: try LiveRegistry.freePort(), arguments: [])
            do {
                let apps = try await back.call(.GET, "/v1/ministries/health/applications", token: live.operatorToken)
                let names = apps.items.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
                #expect(names == ["portal"], "\(apps.body)")
                #expect(expected.items.count == 2)
                let verify = try await back.call(.GET, "/v1/audit/verify", token: live.operatorToken)
                #expect((verify.json as? [String: Any])?["ok"] as? Bool == true, "\(verify.body)")
            } catch {
                Issue.record(error)
            }
            await back.shutdown()
            try? FileManager.default.removeItem(atPath: file)
        }
    }
}
