import Foundation
import GRDB
import TansiqModel

/// `usage`: closed intervals of instances holding resources, appended as they close. Times are
/// stored as integer milliseconds since 1970, so that overlaps are computed exactly.
enum UsageTable {
    static func create(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE usage (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, ministry TEXT NOT NULL, application TEXT NOT NULL,
                    instance TEXT NOT NULL, guaranteed INTEGER NOT NULL, from_ms INTEGER NOT NULL,
                    to_ms INTEGER NOT NULL, cpu_millis INTEGER NOT NULL, memory_bytes INTEGER NOT NULL,
                    storage_bytes INTEGER NOT NULL)
                """)
        try db.execute(sql: "CREATE INDEX usage_span ON usage(to_ms, from_ms)")
    }

    static func append(_ record: UsageRecord, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO usage (ministry, application, instance, guaranteed, from_ms, to_ms, cpu_millis,
                    memory_bytes, storage_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                record.ministry, record.application, record.instance, record.guaranteed,
                UsageMilliseconds.of(record.from), UsageMilliseconds.of(record.to), record.cpuMillis,
                record.memoryBytes,
                record.storageBytes,
            ])
    }

    static func overlapping(from: Date, to: Date, in db: Database) throws -> [UsageRecord] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM usage WHERE to_ms > ? AND from_ms < ? ORDER BY seq",
            arguments: [UsageMilliseconds.of(from), UsageMilliseconds.of(to)]
        ).map { row in
            let fromMs: Int64 = row["from_ms"]
            let toMs: Int64 = row["to_ms"]
            return UsageRecord(
                ministry: row["ministry"], application: row["application"], instance: row["instance"],
                guaranteed: row["guaranteed"], from: UsageMilliseconds.date(fromMs),
                to: UsageMilliseconds.date(toMs), cpuMillis: row["cpu_millis"],
                memoryBytes: row["memory_bytes"], storageBytes: row["storage_bytes"])
        }
    }
}
