import GRDB

/// `meta`: the store's counters (`resource_version`, `instance_serial`, `ministry_serial`).
enum MetaTable {
    static func create(_ db: Database) throws {
        try db.execute(sql: "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL)")
        try db.execute(sql: "INSERT INTO meta VALUES ('resource_version', 0), ('instance_serial', 0)")
    }

    static func get(_ key: String, in db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) ?? 0
    }

    static func set(_ key: String, _ value: Int64, in db: Database) throws {
        try db.cachedStatement(sql: "UPDATE meta SET value = ? WHERE key = ?").execute(arguments: [value, key])
    }
}
