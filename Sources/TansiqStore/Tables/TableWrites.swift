import TansiqModel

/// What a changeset leaves in each object table: for every key its last write, a put or a
/// deletion. A backend that writes a table in one statement (PostgreSQL) writes these; the order
/// of a changeset's mutations matters only per key, and only the last one per key survives.
struct TableWrites: Sendable {
    /// One table's last writes, by key: the object put, or nil for a deletion.
    struct Table<Object: Sendable>: Sendable {
        private(set) var last: [String: Object?] = [:]

        mutating func put(_ key: String, _ object: Object) { last[key] = .some(object) }
        mutating func delete(_ key: String) { last[key] = .some(nil) }

        /// The objects put, in key order.
        var puts: [Object] { last.sorted { $0.key < $1.key }.compactMap { $0.value } }
        /// The keys deleted, in order.
        var deletions: [String] { last.filter { $0.value == nil }.keys.sorted() }
    }

    var ministries = Table<Ministry>()
    var applications = Table<Application>()
    var capacityRequests = Table<CapacityRequest>()
    var instances = Table<Instance>()
    var tokens = Table<TokenRecord>()
    var nodes = Table<Node>()
    var secrets = Table<SecretRecord>()

    /// The last writes of `mutations`.
    init(_ mutations: [Mutation]) {
        for mutation in mutations {
            switch mutation {
            case .putMinistry(let m): ministries.put(MinistriesTable.table.key(m), m)
            case .deleteMinistry(let name): ministries.delete(name)
            case .putApplication(let a): applications.put(ApplicationsTable.table.key(a), a)
            case .deleteApplication(let ministry, let name):
                applications.delete(ApplicationsTable.key(ministry: ministry, name: name))
            case .putCapacityRequest(let r): capacityRequests.put(CapacityRequestsTable.table.key(r), r)
            case .deleteCapacityRequest(let name): capacityRequests.delete(name)
            case .putInstance(let i): instances.put(InstancesTable.table.key(i), i)
            case .deleteInstance(let id): instances.delete(id)
            case .putToken(let t): tokens.put(TokensTable.table.key(t), t)
            case .putNode(let n): nodes.put(NodesTable.table.key(n), n)
            case .deleteNode(let name): nodes.delete(name)
            case .putSecret(let secret): secrets.put(SecretsTable.table.key(secret), secret)
            case .deleteSecret(let ministry, let name): secrets.delete(SecretsTable.key(ministry: ministry, name: name))
            }
        }
    }
}
