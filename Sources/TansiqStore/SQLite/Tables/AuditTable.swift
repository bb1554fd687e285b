import Foundation
import GRDB
import TansiqModel

/// `audit`: the append-only log. Rows are inserted, never updated or deleted (triggers refuse it).
enum AuditTable {
    static func create(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE audit (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    time TEXT NOT NULL, request_id TEXT NOT NULL, subject TEXT NOT NULL, role TEXT NOT NULL,
                    action TEXT NOT NULL, object TEXT NOT NULL, result TEXT NOT NULL, message TEXT)
                """)
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

    static func append(_ record: AuditRecord, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO audit (time, request_id, subject, role, action, object, result, message)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                RFC3339.formatMilliseconds(record.time), record.requestID, record.subject, record.role,
                record.action, record.object, record.result, record.message,
            ])
    }

    static func after(_ seq: Int64, limit: Int, in db: Database) throws -> [AuditRecord] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit]
        ).map { row in
            let time: String = row["time"]
            return AuditRecord(
                seq: row["seq"], time: RFC3339.parse(time) ?? Date(timeIntervalSince1970: 0),
                requestID: row["request_id"], subject: row["subject"], role: row["role"], action: row["action"],
                object: row["object"], result: row["result"], message: row["message"])
        }
    }
}
