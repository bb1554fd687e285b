import TansiqModel

/// The scheduler's working copy of the cluster: free capacity per node, what runs where, quota
/// usage, and the node-class indexes, all updated incrementally as a plan is built.
final class ClusterState {
    var nodes: [SchedulerNode]
    var nodeIndex: [String: Int] = [:]
    var free: [Resources]
    var placedCount: [Int32]
    var usedPorts: [PortUse]
    var ledger: QuotaLedger
    /// Live placed instances by id.
    var instances: [String: Record] = [:]
    /// Ids of live instances per node, in placement order.
    var onNode: [[String]]
    /// Instances of an application per node.
    var appOnNode: [String: [Int: Int]] = [:]
    /// Instances of an application per topology domain: key "app\u{0}topologyKey" → domain → count.
    var appInDomain: [String: [String: Int]] = [:]
    /// Borrowed instances by ministry, sorted so that the next victim (lowest priority, newest)
    /// is last: reclaim and fair-share preemption take victims from the end without a scan. Entries of
    /// instances removed since stay until they reach the end (`liveBorrowed` skips them).
    var borrowedQueue: [String: [QueueEntry]] = [:]

    /// A borrowed instance in its ministry's victim queue.
    struct QueueEntry: Comparable {
        var rank: Int
        var sequence: Int64
        var id: String
        var token: Int

        /// Ascending order puts the victim order's first (lowest rank, newest, then id) last.
        static func < (a: QueueEntry, b: QueueEntry) -> Bool {
            (b.rank, -b.sequence, b.id) < (a.rank, -a.sequence, a.id)
        }
    }
    /// Largest allocatable cpu, for bucket sizes.
    let maxAllocatableCPU: Int64
    /// Largest allocatable memory, for the number of memory tiers.
    let maxAllocatableMemory: Int64
    /// Node classes by static constraints (and spread domain).
    var classes: [ClassKey: Int] = [:]
    var classStore: [NodeClass] = []
    /// For every node, the classes it belongs to and its position in each.
    var memberships: [[(classIndex: Int, local: Int)]]
    /// Sum of allocatable of usable nodes, for dominant shares.
    let clusterTotal: Resources

    /// What the instances of one application (in one shape of its constraints) share, held once:
    /// a trace's millions of instances come from tens of thousands of applications.
    final class Shape {
        let ministry: String
        let application: String
        let applicationKey: String
        let constraints: Constraints

        init(_ request: InstanceRequest) {
            ministry = request.ministry
            application = request.application
            applicationKey = request.applicationKey
            constraints = request.constraints
        }

        func matches(_ request: InstanceRequest) -> Bool {
            ministry == request.ministry && application == request.application && constraints == request.constraints
        }
    }

    /// A placed instance, compact: what its application's instances share is in its `shape`.
    struct Record {
        let id: String
        let shape: Shape
        let resources: Resources
        let sequence: Int64
        /// The plan that placed it (`ClusterState.plan`); -1 for what the snapshot had.
        let placedBy: Int32
        private let nodeIndex: Int32
        let priority: Priority
        let guaranteed: Bool
        /// Which addition this is: an instance placed again (a later plan) is a new one.
        let token: Int

        init(
            _ request: InstanceRequest, shape: Shape, node: Int, guaranteed: Bool, placedBy: Int, token: Int
        ) {
            id = request.id
            self.shape = shape
            resources = request.resources
            sequence = request.sequence
            self.placedBy = Int32(placedBy)
            nodeIndex = Int32(node)
            priority = request.priority
            self.guaranteed = guaranteed
            self.token = token
        }

        var node: Int { Int(nodeIndex) }
        var ministry: String { shape.ministry }
        var applicationKey: String { shape.applicationKey }
        var constraints: Constraints { shape.constraints }

        /// The request it was placed for.
        var request: InstanceRequest {
            InstanceRequest(
                id: id, ministry: shape.ministry, application: shape.application, priority: priority,
                resources: resources, constraints: shape.constraints, sequence: sequence)
        }
    }

    /// Shapes by ministry and application (one per shape of constraints met).
    private var shapes: [String: [String: [Shape]]] = [:]
    /// The shape of the last addition: a workload's instances come one after another.
    private var lastShape: Shape?

    private func shape(_ request: InstanceRequest) -> Shape {
        if let lastShape, lastShape.matches(request) { return lastShape }
        let shape: Shape
        if let known = shapes[request.ministry]?[request.application]?.first(where: { $0.matches(request) }) {
            shape = known
        } else {
            shape = Shape(request)
            shapes[request.ministry, default: [:]][request.application, default: []].append(shape)
        }
        lastShape = shape
        return shape
    }

    /// Additions so far: each record's `token`.
    private var additions = 0

    /// The plan being built: `Scheduler.schedule` starts a new one with each call, so what an
    /// earlier call placed counts as running (it may be preempted), as it would in a new snapshot.
    var plan = 0

    /// Placed by the plan being built (never a preemption victim).
    func planned(_ record: Record) -> Bool { Int(record.placedBy) == plan }

    struct ClassKey: Hashable {
        var constraints: StaticConstraints
        var topologyKey: String?
        var domain: String?
    }

    init(_ snapshot: Snapshot) {
        nodes = snapshot.nodes
        free = snapshot.nodes.map(\.allocatable)
        placedCount = Array(repeating: 0, count: snapshot.nodes.count)
        usedPorts = Array(repeating: PortUse(), count: snapshot.nodes.count)
        onNode = Array(repeating: [], count: snapshot.nodes.count)
        memberships = Array(repeating: [], count: snapshot.nodes.count)
        ledger = QuotaLedger(snapshot.ministries)
        maxAllocatableCPU = snapshot.nodes.map(\.allocatable.cpuMillis).max() ?? 1
        maxAllocatableMemory = snapshot.nodes.map(\.allocatable.memoryBytes).max() ?? 0
        clusterTotal = snapshot.nodes.filter { $0.ready && !$0.cordoned }.reduce(Resources.zero) { $0 + $1.allocatable }
        nodeIndex.reserveCapacity(snapshot.nodes.count)
        for (i, node) in snapshot.nodes.enumerated() { nodeIndex[node.name] = i }
        // Sized once for what the snapshot holds, not grown (and rehashed) step by step.
        instances.reserveCapacity(snapshot.placed.count)
        for placed in snapshot.placed {
            guard let node = nodeIndex[placed.node] else { continue }
            add(placed.request, node: node, guaranteed: placed.guaranteed, planned: false)
        }
    }

    func isEmpty(_ node: Int) -> Bool { placedCount[node] == 0 }

    static func domainKey(_ app: String, _ key: String) -> String { app + "\u{0}" + key }

    /// Records an instance on a node and refreshes the indexes that hold the node.
    func add(_ request: InstanceRequest, node: Int, guaranteed: Bool, planned: Bool) {
        let shape = shape(request)
        free[node] -= request.resources
        placedCount[node] += 1
        for port in request.constraints.fixedPorts { usedPorts[node].insert(port) }
        additions += 1
        instances[request.id] = Record(
            request, shape: shape, node: node, guaranteed: guaranteed, placedBy: planned ? plan : -1,
            token: additions)
        onNode[node].append(request.id)
        appOnNode[shape.applicationKey, default: [:]][node, default: 0] += 1
        if let key = request.constraints.spread, let domain = nodes[node].labels[key] {
            appInDomain[Self.domainKey(shape.applicationKey, key), default: [:]][domain, default: 0] += 1
        }
        ledger.add(request.ministry, request.resources, guaranteed: guaranteed)
        if !guaranteed {
            let entry = QueueEntry(
                rank: request.priority.rank, sequence: request.sequence, id: request.id, token: additions)
            borrowedQueue[request.ministry, default: []].insertSorted(entry)
        }
        refile(node)
    }

    /// The live borrowed instances of `ministry`, next victim first, as long as `body` asks
    /// for more (it returns false to stop).
    func liveBorrowed(_ ministry: String, _ body: (Record) -> Bool) {
        while let last = borrowedQueue[ministry]?.last, !isLive(last) { borrowedQueue[ministry]!.removeLast() }
        guard let queue = borrowedQueue[ministry] else { return }
        for entry in queue.reversed() where isLive(entry) {
            if !body(instances[entry.id]!) { return }
        }
    }

    /// The entry is of the instance as it is now placed (not removed, not placed again since).
    private func isLive(_ entry: QueueEntry) -> Bool { instances[entry.id]?.token == entry.token }

    /// Forgets an instance and refreshes the indexes that hold its node.
    func remove(_ id: String) {
        guard let record = instances.removeValue(forKey: id) else { return }
        let node = record.node
        free[node] += record.resources
        placedCount[node] -= 1
        for port in record.constraints.fixedPorts { usedPorts[node].remove(port) }
        onNode[node].removeAll { $0 == id }
        appOnNode[record.applicationKey]?[node]? -= 1
        if let key = record.constraints.spread, let domain = nodes[node].labels[key] {
            appInDomain[Self.domainKey(record.applicationKey, key)]?[domain]? -= 1
        }
        ledger.remove(record.ministry, record.resources, guaranteed: record.guaranteed)
        refile(node)
    }

    private func refile(_ node: Int) {
        for membership in memberships[node] {
            classStore[membership.classIndex].file(membership.local, node: node, state: self)
        }
    }

    /// The index of the class for these constraints (and spread domain), built on first use.
    func nodeClass(_ constraints: StaticConstraints, topologyKey: String? = nil, domain: String? = nil) -> Int {
        let key = ClassKey(constraints: constraints, topologyKey: topologyKey, domain: domain)
        if let index = classes[key] { return index }
        let members = nodes.indices.filter { node in
            StaticFilters.all.allSatisfy { $0.reject(node, constraints, self) == nil }
                && (topologyKey == nil || nodes[node].labels[topologyKey!] == domain)
        }
        let index = classStore.count
        classStore.append(NodeClass(members: members, state: self))
        for (local, node) in members.enumerated() { memberships[node].append((index, local)) }
        classes[key] = index
        return index
    }

    /// The domains of a topology key among the nodes of a class, sorted.
    func domains(of classIndex: Int, key: String) -> [String] {
        Set(classStore[classIndex].members.compactMap { nodes[$0].labels[key] }).sorted()
    }
}

/// The fixed ports in use on a node, each with how many instances hold it: two can hold the same
/// one when their application gained it after they were placed, and the first to leave must not
/// free it for the other.
struct PortUse: Equatable {
    /// Instances holding each port.
    private(set) var counts: [Int: Int] = [:]

    var isEmpty: Bool { counts.isEmpty }

    func contains(_ port: Int) -> Bool { counts[port] != nil }

    /// True when none of `ports` is in use.
    func isDisjoint(with ports: [Int]) -> Bool { !ports.contains(where: contains) }

    mutating func insert(_ port: Int) { counts[port, default: 0] += 1 }

    /// One instance less holds `port`.
    mutating func remove(_ port: Int) {
        guard let count = counts[port] else { return }
        counts[port] = count > 1 ? count - 1 : nil
    }

    /// One instance less holds each of `ports`.
    mutating func subtract(_ ports: [Int]) {
        for port in ports { remove(port) }
    }
}

extension Array where Element: Comparable {
    /// Inserts keeping ascending order, after equal elements (binary search; at the end in O(1)
    /// when the element is the largest, as a newer instance of the same priority is).
    mutating func insertSorted(_ element: Element) {
        if let last, !(element < last) {
            append(element)
            return
        }
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if element < self[mid] { high = mid } else { low = mid + 1 }
        }
        insert(element, at: low)
    }
}
