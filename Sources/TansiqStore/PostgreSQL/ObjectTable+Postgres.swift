import Foundation
import Logging
import PostgresNIO
import TansiqModel

extension ObjectTable {
    /// The `CREATE TABLE` and its indexes.
    var createStatements: [String] {
        let extra = columns.map { ", \($0.name) TEXT" }.joined()
        return ["CREATE TABLE \(name) (key TEXT PRIMARY KEY\(extra), body TEXT NOT NULL)"]
            + columns.map { "CREATE INDEX \(name)_\($0.name) ON \(name)(\($0.name))" }
    }

    /// Inserts or replaces `objects` in one statement (arrays unnested: one round trip however
    /// many). Keys must be distinct.
    func upsert(
        _ objects: some Collection<Object>, on connection: PostgresConnection, encoder: JSONEncoder, logger: Logger
    )
        async throws
    {
        guard !objects.isEmpty else { return }
        var binds = PostgresBindings(capacity: columns.count + 2)
        binds.append(objects.map(key))
        // Arrays carry no NULL here: an unset column travels as "" and is stored as NULL.
        for column in columns { binds.append(objects.map { column.value($0) ?? "" }) }
        binds.append(try objects.map { String(decoding: try WireJSON.encode($0, with: encoder), as: UTF8.self) })
        let arrays = (1...(columns.count + 2)).map { "$\($0)::text[]" }.joined(separator: ", ")
        let selected = (["u.key"] + columns.map { "NULLIF(u.\($0.name), '')" } + ["u.body"]).joined(separator: ", ")
        let updates = (columns.map(\.name) + ["body"]).map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(name) (\(columnNames)) SELECT \(selected) FROM unnest(\(arrays)) AS u(\(columnNames))
                    ON CONFLICT (key) DO UPDATE SET \(updates)
                    """, binds: binds), logger: logger)
    }

    /// Removes the objects under `keys`.
    func delete(keys: [String], on connection: PostgresConnection, logger: Logger) async throws {
        guard !keys.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(keys)
        try await connection.query(
            PostgresQuery(unsafeSQL: "DELETE FROM \(name) WHERE key = ANY($1::text[])", binds: binds), logger: logger)
    }

    /// Every object, by key.
    func all(on connection: PostgresConnection, decoder: JSONDecoder, logger: Logger) async throws -> [String: Object] {
        var result: [String: Object] = [:]
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT key, body FROM \(name)"), logger: logger)
        for try await (key, body) in rows.decode((String, String).self) {
            result[key] = try decode(body, key: key, with: decoder)
        }
        return result
    }
}
