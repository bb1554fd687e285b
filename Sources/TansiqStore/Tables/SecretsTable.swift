import TansiqModel

/// `secrets`: one row per secret, keyed by `ministry/name`; the body holds the sealed values only.
enum SecretsTable {
    static let table = ObjectTable<SecretRecord>(
        name: "secrets", key: { $0.key }, columns: [("ministry", { $0.view.metadata.ministry })])

    static func key(ministry: String, name: String) -> String { "\(ministry)/\(name)" }
}
