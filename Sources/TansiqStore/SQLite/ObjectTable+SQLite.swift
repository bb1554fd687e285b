import Foundation
import GRDB
import TansiqModel

extension ObjectTable {
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
        let body = String(decoding: try WireJSON.encode(object, with: encoder), as: UTF8.self)
        let marks = String(repeating: "?, ", count: columns.count + 1) + "?"
        var values: [(any DatabaseValueConvertible)?] = [key(object)]
        values += columns.map { $0.value(object) }
        values.append(body)
        // A statement prepared once per connection (every commit writes many rows of few tables).
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO \(name) (\(columnNames)) VALUES (\(marks))")
            .execute(arguments: StatementArguments(values))
    }

    /// Removes the object under `key`, if any.
    func delete(key: String, in db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM \(name) WHERE key = ?").execute(arguments: [key])
    }

    /// Every object, by key.
    func all(in db: Database, decoder: JSONDecoder) throws -> [String: Object] {
        var result: [String: Object] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, body FROM \(name)") {
            let key: String = row["key"]
            result[key] = try decode(row["body"], key: key, with: decoder)
        }
        return result
    }
}
