import Foundation

/// A table of objects kept as JSON bodies under a text key, with a few indexed columns for the
/// queries that need them. Every object table of every backend is one of these; each backend
/// adds how to create, write and read it (`ObjectTable+SQLite`, `ObjectTable+Postgres`).
struct ObjectTable<Object: Codable & Sendable>: Sendable {
    /// The table's name.
    let name: String
    /// The object's key: unique within the table.
    let key: @Sendable (Object) -> String
    /// Extra indexed columns and how to read them off an object.
    let columns: [(name: String, value: @Sendable (Object) -> String?)]
    /// `key, COLUMNS…, body`: what every write names, made once (a commit writes many rows).
    let columnNames: String

    init(
        name: String, key: @escaping @Sendable (Object) -> String,
        columns: [(name: String, value: @Sendable (Object) -> String?)]
    ) {
        self.name = name
        self.key = key
        self.columns = columns
        self.columnNames = (["key"] + columns.map(\.name) + ["body"]).joined(separator: ", ")
    }

    /// Decodes a stored body, saying which row could not be read.
    func decode(_ body: String, key: String, with decoder: JSONDecoder) throws -> Object {
        do {
            return try decoder.decode(Object.self, from: Data(body.utf8))
        } catch {
            throw StoreError.io("\(name) row \(key) cannot be read: \(error)")
        }
    }
}
