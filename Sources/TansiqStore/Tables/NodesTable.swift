import TansiqModel

/// `nodes`: one row per joined node, keyed by name.
enum NodesTable {
    static let table = ObjectTable<Node>(name: "nodes", key: { $0.name }, columns: [])
}
