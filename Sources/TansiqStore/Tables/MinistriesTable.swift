import TansiqModel

/// `ministries`: one row per ministry, keyed by name.
enum MinistriesTable {
    static let table = ObjectTable<Ministry>(name: "ministries", key: { $0.metadata.name }, columns: [])
}
