import Foundation
import GRDB

/// A table of objects kept as JSON bodies under a text key, with a few indexed columns for the
/// queries that need them. Every object table of the SQLite store is one of these.
struct ObjectTable<Object: Codable & Sendable>: Sendable {
    /// The table's name.
    let name: String
    /// The object's key: unique within the table.
    let key: @Sendable (Object) -> String
    /// Extra indexed columns and how to read them off an object.
    let columns: [(name: String, value: @Sendable (Object) -> String?)]

    /// The `CREATE TABLE` and its indexes.
    func create(_ db: Database) throws {
        let extra = columns.map { ", \($0.name) TEXT" }.joined()
        try db.execute(sql: "CREATE TABLE \(name) (key TEXT PRIMARY KEY NOT NULL\(extra), body TEXT NOT NULL)")
        for column in columns {
            try db.execute(sql: "CREATE INDEX \(name)_\(column.name) ON \(name)(\(column.name))")
        }
    }

    /// Inserts or replaces `object`.
    func put(_ object: Object, in db: Database, encoder: JSONEncoder) throws {
        let body = String(decoding: try encoder.encode(object), as: UTF8.self)
        let names = (["key"] + columns.map(\.name) + ["body"]).joined(separator: ", ")
        let marks = Array(repeating: "?", count: columns.count + 2).joined(separator: ", ")
        var values: [(any DatabaseValueConvertible)?] = [key(object)]
        values += columns.map { $0.value(object) }
        values.append(body)
        try db.execute(
            sql: "INSERT OR REPLACE INTO \(name) (\(names)) VALUES (\(marks))",
            arguments: StatementArguments(values))
    }

    /// Removes the object under `key`, if any.
    func delete(key: String, in db: Database) throws {
        try db.execute(sql: "DELETE FROM \(name) WHERE key = ?", arguments: [key])
    }

    /// Every object, by key.
    func all(in db: Database, decoder: JSONDecoder) throws -> [String: Object] {
        var result: [String: Object] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, body FROM \(name)") {
            let key: String = row["key"]
            let body: String = row["body"]
            do {
                result[key] = try decoder.decode(Object.self, from: Data(body.utf8))
            } catch {
                throw StoreError.io("\(name) row \(key) cannot be read: \(error)")
            }
        }
        return result
    }
}
