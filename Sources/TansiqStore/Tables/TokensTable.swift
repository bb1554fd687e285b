import TansiqModel

/// `tokens`: one row per token (hash only, never the secret), keyed by id.
enum TokensTable {
    static let table = ObjectTable<TokenRecord>(name: "tokens", key: { $0.id }, columns: [])
}
