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
        ).map(record)
    }

    /// Folds intervals that ended before `before` into `usage_days`, at most `limit` (see
    /// `Store.rollUpUsage`).
    static func rollUp(endedBefore before: Date, limit: Int, in db: Database) throws -> Int {
        let cutoff = UsageMilliseconds.of(before)
        let rows = try Row.fetchAll(
            db, sql: "SELECT * FROM usage WHERE to_ms < ? ORDER BY seq LIMIT ?", arguments: [cutoff, limit])
        guard let last: Int64 = rows.last?["seq"] else { return 0 }
        let records = rows.map(record)
        for day in UsageDay.fold(records) {
            var total = day
            if let row = try Row.fetchOne(
                db, sql: "SELECT * FROM usage_days WHERE ministry = ? AND day = ? AND guaranteed = ?",
                arguments: [day.ministry, day.day, day.guaranteed])
            {
                total.add(try UsageDaysTable.day(row))
            }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO usage_days (ministry, day, guaranteed, cpu_millicore_seconds,
                        memory_byte_seconds, storage_byte_seconds, instance_seconds) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    total.ministry, total.day, total.guaranteed, "\(total.cpuMillicoreSeconds)",
                    "\(total.memoryByteSeconds)", "\(total.storageByteSeconds)", "\(total.instanceSeconds)",
                ])
        }
        try db.execute(sql: "DELETE FROM usage WHERE to_ms < ? AND seq <= ?", arguments: [cutoff, last])
        return rows.count
    }

    private static func record(_ row: Row) -> UsageRecord {
        let fromMs: Int64 = row["from_ms"]
        let toMs: Int64 = row["to_ms"]
        return UsageRecord(
            ministry: row["ministry"], application: row["application"], instance: row["instance"],
            guaranteed: row["guaranteed"], from: UsageMilliseconds.date(fromMs),
            to: UsageMilliseconds.date(toMs), cpuMillis: row["cpu_millis"],
            memoryBytes: row["memory_bytes"], storageBytes: row["storage_bytes"])
    }
}

/// `usage_days`: closed usage folded per ministry, UTC day and kind (`UsageDay`); the exact sums
/// are decimal integers in text (they outgrow 64 bits).
enum UsageDaysTable {
    static func create(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE usage_days (
                    ministry TEXT NOT NULL, day INTEGER NOT NULL, guaranteed INTEGER NOT NULL,
                    cpu_millicore_seconds TEXT NOT NULL, memory_byte_seconds TEXT NOT NULL,
                    storage_byte_seconds TEXT NOT NULL, instance_seconds TEXT NOT NULL,
                    PRIMARY KEY (ministry, day, guaranteed))
                """)
    }

    static func overlapping(from: Date, to: Date, in db: Database) throws -> [UsageDay] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM usage_days WHERE day > ? AND day < ? ORDER BY day, ministry, guaranteed",
            arguments: [UsageDay.second(from) - UsageDay.seconds, Int64(to.timeIntervalSince1970.rounded(.up))]
        ).map(day)
    }

    static func day(_ row: Row) throws -> UsageDay {
        func sum(_ column: String) throws -> Decimal {
            let text: String = row[column]
            guard let value = UsageDay.sum(text) else {
                throw StoreError.io("usage_days.\(column) holds \(text), not a decimal integer")
            }
            return value
        }
        return UsageDay(
            ministry: row["ministry"], day: row["day"], guaranteed: row["guaranteed"],
            cpuMillicoreSeconds: try sum("cpu_millicore_seconds"), memoryByteSeconds: try sum("memory_byte_seconds"),
            storageByteSeconds: try sum("storage_byte_seconds"), instanceSeconds: try sum("instance_seconds"))
    }
}
