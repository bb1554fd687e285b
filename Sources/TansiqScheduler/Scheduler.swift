import TansiqModel

/// Options of the scheduler: controller-wide settings.
public struct SchedulerOptions: Sendable {
    /// In what order pending instances are taken.
    public enum Ordering: Sendable {
        /// Priority first; within a priority, the ministry with the lowest weighted dominant share
        /// of the cluster goes next (fair sharing); within a ministry, oldest first.
        case fairShare
        /// Exactly as given: an online trace.
        case asGiven
    }

    /// How a node is chosen.
    public var scorer: Scorer
    /// In what order pending instances are taken.
    public var ordering: Ordering

    /// Creates options: binpack and fair sharing by default.
    public init(scorer: Scorer = .binpack, ordering: Ordering = .fairShare) {
        self.scorer = scorer
        self.ordering = ordering
    }
}

/// Decides which pending instance runs on which node, within which ministry's share.
///
/// A function of its inputs: no I/O, no clock, no randomness, so the same snapshot and pending
/// set give the same plan. It keeps its working state between calls, so a caller may feed it
/// instances in batches (an online trace) and get each batch's plan against everything decided
/// before; `Scheduler.plan(_:_:options:)` is the one-shot form.
///
/// Pipeline per instance: quota decision → node classes (static filters, built once) →
/// candidates from the free-capacity index (dynamic filters) → scorer → commit; on failure,
/// preemption; else the aggregated reason.
public final class Scheduler {
    let state: ClusterState
    let options: SchedulerOptions
    private var domainCache: [String: [String]] = [:]
    private var failed: [FailureKey: String] = [:]
    var plan = Plan()

    struct FailureKey: Hashable {
        var application: String
        var resources: Resources
        var priority: Priority
    }

    /// Starts from a snapshot.
    public init(snapshot: Snapshot, options: SchedulerOptions = SchedulerOptions()) {
        state = ClusterState(snapshot)
        self.options = options
    }

    /// Plans a snapshot's pending instances in one call.
    public static func plan(
        _ snapshot: Snapshot, _ pending: [InstanceRequest], options: SchedulerOptions = SchedulerOptions()
    ) -> Plan {
        Scheduler(snapshot: snapshot, options: options).schedule(pending)
    }

    /// Plans these instances against the current working state and returns their plan.
    public func schedule(_ pending: [InstanceRequest]) -> Plan {
        plan = Plan()
        failed = [:]
        // A snapshot can start over-lent (a lender's quota shrank): borrowers give back first.
        for cohort in state.ledger.cohorts.keys.sorted() where state.ledger.overLent(cohort) {
            Preemptor.reclaim(cohort: cohort, by: nil, state, &plan)
        }
        for request in order(pending) { place(request) }
        return plan
    }

    /// Quota usage after the plans made so far.
    public var ledger: QuotaLedger { state.ledger }

    /// Free capacity of a node after the plans made so far.
    public func free(_ node: String) -> Resources? { state.nodeIndex[node].map { state.free[$0] } }

    /// Number of nodes with at least one instance.
    public var nodesUsed: Int { state.placedCount.filter { $0 > 0 }.count }

    // MARK: Order

    func order(_ pending: [InstanceRequest]) -> [InstanceRequest] {
        guard options.ordering == .fairShare else { return pending }
        var result: [InstanceRequest] = []
        result.reserveCapacity(pending.count)
        let byPriority = Dictionary(grouping: pending, by: \.priority)
        for priority in Priority.allCases.sorted(by: >) {
            guard let group = byPriority[priority] else { continue }
            var queues = Dictionary(grouping: group, by: \.ministry).mapValues {
                $0.sorted { ($0.sequence, $0.id) < ($1.sequence, $1.id) }[...]
            }
            // Shares move as instances are taken: count what this ordering has handed out.
            var usage = Dictionary(uniqueKeysWithValues: queues.keys.map { ($0, state.ledger.usage($0)) })
            while !queues.isEmpty {
                let next = queues.keys.min { a, b in
                    (share(a, usage[a]!), a) < (share(b, usage[b]!), b)
                }!
                let request = queues[next]!.removeFirst()
                if queues[next]!.isEmpty { queues[next] = nil }
                usage[next]! += request.resources
                result.append(request)
            }
        }
        return result
    }

    private func share(_ ministry: String, _ usage: Resources) -> Double {
        usage.dominantShare(of: state.clusterTotal) / state.ledger.terms(of: ministry).weight
    }

    // MARK: Placing one instance

    private func place(_ request: InstanceRequest) {
        let key = FailureKey(
            application: request.applicationKey, resources: request.resources, priority: request.priority)
        if let reason = failed[key] {
            plan.unplaced.append(Plan.Unplaced(instance: request.id, reason: reason))
            return
        }
        let decision = state.ledger.decide(request.ministry, request.resources, priority: request.priority)
        if case .refused(let why) = decision {
            if preempt(request) { return }
            fail(request, key, why)
            return
        }
        if let node = findNode(request) {
            commit(request, node: node, guaranteed: decision == .guaranteed)
            return
        }
        if preempt(request) { return }
        fail(request, key, Explain.reason(request, state))
    }

    private func fail(_ request: InstanceRequest, _ key: FailureKey, _ reason: String) {
        failed[key] = reason
        plan.unplaced.append(Plan.Unplaced(instance: request.id, reason: reason))
    }

    func commit(_ request: InstanceRequest, node: Int, guaranteed: Bool) {
        state.add(request, node: node, guaranteed: guaranteed, planned: true)
        plan.assignments.append(
            Plan.Assignment(instance: request.id, node: state.nodes[node].name, guaranteed: guaranteed))
        if guaranteed, let cohort = state.ledger.terms(of: request.ministry).cohort, state.ledger.overLent(cohort) {
            Preemptor.reclaim(cohort: cohort, by: request, state, &plan)
        }
    }

    /// The node the scorer picks among those that pass every filter, or nil.
    func findNode(_ request: InstanceRequest) -> Int? {
        let constraints = request.constraints.staticPart
        let base = state.nodeClass(constraints)
        let accept: (Int) -> Bool = { [state] node in Self.passesDynamic(node, request, state) }
        guard let key = request.constraints.spread else {
            return options.scorer.choose(state.classStore[base], request, accept)
        }
        let cacheKey = "\(base)\u{0}\(key)"
        let domains = domainCache[cacheKey] ?? state.domains(of: base, key: key)
        domainCache[cacheKey] = domains
        for domain in SpreadFilter.order(request, key: key, domains: domains, state) {
            let nodeClass = state.nodeClass(constraints, topologyKey: key, domain: domain)
            if let node = options.scorer.choose(state.classStore[nodeClass], request, accept) { return node }
        }
        return nil
    }

    /// Fit, ports and maxPerNode, inlined for the hot path (the same rules as `DynamicFilters`).
    @inline(__always)
    static func passesDynamic(_ node: Int, _ request: InstanceRequest, _ state: ClusterState) -> Bool {
        guard request.resources.fits(in: state.free[node]) else { return false }
        for port in request.constraints.fixedPorts where state.usedPorts[node].contains(port) { return false }
        if let max = request.constraints.maxPerNode, (state.appOnNode[request.applicationKey]?[node] ?? 0) >= max {
            return false
        }
        return true
    }
}
