import Foundation
import GRDB
import TansiqModel

/// `events`: objects' short histories. Appended with the change they describe; the oldest are
/// pruned beyond the store's `maxEvents` rows.
enum EventsTable {
    static func create(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, kind TEXT NOT NULL,
                    ministry TEXT, name TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL)
                """)
        try db.execute(sql: "CREATE INDEX events_object ON events(kind, name)")
        try db.execute(sql: "CREATE INDEX events_ministry ON events(ministry)")
    }

    static func append(_ events: [Event], keeping capacity: Int64, in db: Database) throws {
        let insert = try db.cachedStatement(
            sql: "INSERT INTO events (time, kind, ministry, name, reason, message) VALUES (?, ?, ?, ?, ?, ?)")
        for event in events {
            try insert.execute(
                arguments: [
                    RFC3339.formatMilliseconds(event.time), event.kind, event.ministry, event.name, event.reason,
                    event.message,
                ])
        }
        let last = db.lastInsertedRowID
        if last % 1000 < Int64(events.count) {
            try db.execute(sql: "DELETE FROM events WHERE seq <= ?", arguments: [last - capacity])
        }
    }

    static func query(
        kind: String?, ministry: String?, name: String?, ministries: Set<String>?, limit: Int, in db: Database
    ) throws -> [Event] {
        var clauses: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let kind {
            clauses.append("kind = ?")
            arguments.append(kind)
        }
        if let ministry {
            clauses.append("ministry = ?")
            arguments.append(ministry)
        }
        if let name {
            clauses.append("name = ?")
            arguments.append(name)
        }
        if let ministries {
            let marks = Array(repeating: "?", count: ministries.count).joined(separator: ", ")
            clauses.append(ministries.isEmpty ? "ministry IS NULL" : "(ministry IS NULL OR ministry IN (\(marks)))")
            arguments += ministries.sorted().map { $0 }
        }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        arguments.append(limit)
        let rows = try Row.fetchAll(
            db, sql: "SELECT * FROM events \(filter) ORDER BY seq DESC LIMIT ?",
            arguments: StatementArguments(arguments))
        return rows.reversed().map { row in
            let time: String = row["time"]
            return Event(
                seq: row["seq"], time: RFC3339.parse(time) ?? Date(timeIntervalSince1970: 0), kind: row["kind"],
                ministry: row["ministry"], name: row["name"], reason: row["reason"], message: row["message"])
        }
    }
}
