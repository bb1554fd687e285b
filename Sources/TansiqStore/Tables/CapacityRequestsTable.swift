import TansiqModel

/// `capacity_requests`: one row per request, keyed by name.
enum CapacityRequestsTable {
    static let table = ObjectTable<CapacityRequest>(
        name: "capacity_requests", key: { $0.metadata.name }, columns: [("ministry", { $0.metadata.ministry })])
}
