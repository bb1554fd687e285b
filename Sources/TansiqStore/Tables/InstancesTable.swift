import TansiqModel

/// `instances`: one row per instance, keyed by id, indexed by ministry and node.
enum InstancesTable {
    static let table = ObjectTable<Instance>(
        name: "instances", key: { $0.id }, columns: [("ministry", { $0.ministry }), ("node", { $0.node })])
}
