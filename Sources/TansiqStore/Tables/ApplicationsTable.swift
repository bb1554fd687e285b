import TansiqModel

/// `applications`: one row per application, keyed by `ministry/name`.
enum ApplicationsTable {
    static let table = ObjectTable<Application>(
        name: "applications", key: { $0.key }, columns: [("ministry", { $0.metadata.ministry })])

    static func key(ministry: String, name: String) -> String { "\(ministry)/\(name)" }
}
