import Foundation
import GRDB
import TansiqModel

/// `audit`: the append-only log. Rows are inserted, never updated or deleted (triggers refuse it),
/// and chained by hash (`AuditChain`): a row changed with the triggers dropped is found by
/// `tansiq audit verify`.
enum AuditTable {
    static func create(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE audit (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    time TEXT NOT NULL, request_id TEXT NOT NULL, subject TEXT NOT NULL, role TEXT NOT NULL,
                    action TEXT NOT NULL, object TEXT NOT NULL, result TEXT NOT NULL, message TEXT)
                """)
        try createTriggers(db)
    }

    /// The chain's columns, and the hashes of the rows written before them.
    static func addChain(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE audit ADD COLUMN prev_hash TEXT NOT NULL DEFAULT ''")
        try db.execute(sql: "ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT ''")
        try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_update")
        var previous = AuditChain.genesis
        var after: Int64 = 0
        while true {
            let page = try self.after(after, limit: 1000, in: db)
            guard let last = page.last else { break }
            for record in page {
                let hash = AuditChain.hash(of: record, seq: record.seq, prevHash: previous)
                try db.execute(
                    sql: "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?",
                    arguments: [previous, hash, record.seq])
                previous = hash
            }
            after = last.seq
        }
        try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_delete")
        try createTriggers(db)
    }

    private static func createTriggers(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
                """)
        try db.execute(
            sql: """
                CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
                """)
    }

    /// Appends `records`, numbered and chained after `head` (what this store last wrote): from
    /// the larger of its position and the table's last, so a row inserted behind the store's back
    /// is never overwritten, and stands out in the chain.
    static func append(
        _ records: [AuditRecord], after head: AuditChain.Head?, in db: Database
    ) throws
        -> AuditChain.Head?
    {
        guard !records.isEmpty else { return head }
        let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit") ?? 0
        let chained = AuditChain.chained(
            records, after: max(head?.seq ?? 0, last), previous: head?.hash ?? AuditChain.genesis)
        for record in chained {
            try db.execute(
                sql: """
                    INSERT INTO audit (seq, time, request_id, subject, role, action, object, result, message,
                        prev_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.seq, RFC3339.formatMilliseconds(record.time), record.requestID, record.subject,
                    record.role, record.action, record.object, record.result, record.message, record.prevHash,
                    record.hash,
                ])
        }
        return chained.last.map { AuditChain.Head(seq: $0.seq, hash: $0.hash!) }
    }

    /// The last row's position and hash; when every record was archived, the last archived one's.
    static func head(in db: Database) throws -> AuditChain.Head? {
        try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").map {
            AuditChain.Head(seq: $0["seq"], hash: $0["hash"])
        } ?? archived(in: db)
    }

    /// `audit_archive` (one row: the last record removed to the archive) and a deletion trigger
    /// that lets through only records up to it: the store removes records by first moving that
    /// row past them, in the same transaction (`removeThrough`).
    static func addArchive(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE audit_archive (
                    id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL)
                """)
        try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_delete")
        try db.execute(
            sql: """
                CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                WHEN OLD.seq > COALESCE((SELECT seq FROM audit_archive WHERE id = 1), 0)
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
                """)
    }

    /// The last record removed to the archive.
    static func archived(in db: Database) throws -> AuditChain.Head? {
        try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_archive WHERE id = 1").map {
            AuditChain.Head(seq: $0["seq"], hash: $0["hash"])
        }
    }

    /// Removes the records up to checkpoint record `seq` (see `Store.removeAudit(through:)`).
    static func removeThrough(_ seq: Int64, in db: Database) throws {
        guard let record = try after(seq - 1, limit: 1, in: db).first, record.seq == seq else {
            throw StoreError.invalid("audit record \(seq) is not in the store")
        }
        guard AuditChain.isCheckpoint(record), let hash = record.hash else {
            throw StoreError.invalid("audit record \(seq) is not a checkpoint: the log is archived through one only")
        }
        try db.execute(
            sql:
                "INSERT INTO audit_archive (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = ?, hash = ?",
            arguments: [seq, hash, seq, hash])
        try db.execute(sql: "DELETE FROM audit WHERE seq <= ?", arguments: [seq])
    }

    static func after(_ seq: Int64, limit: Int, in db: Database) throws -> [AuditRecord] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit]
        ).map { row in
            let time: String = row["time"]
            return AuditRecord(
                seq: row["seq"], time: RFC3339.parse(time) ?? Date(timeIntervalSince1970: 0),
                requestID: row["request_id"], subject: row["subject"], role: row["role"], action: row["action"],
                object: row["object"], result: row["result"], message: row["message"],
                prevHash: row.hasColumn("prev_hash") ? row["prev_hash"] : nil,
                hash: row.hasColumn("hash") ? row["hash"] : nil)
        }
    }
}
