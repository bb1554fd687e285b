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
    private var failed: [FailureKey: (PendingReason, String)] = [:]
    var plan = Plan()

    struct FailureKey: Hashable {
        var application: String
        var resources: Resources
        var priority: Priority

        init(_ request: InstanceRequest) {
            application = request.applicationKey
            resources = request.resources
            priority = request.priority
        }
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
        state.plan += 1
        failed = [:]
        // A snapshot can start over-lent (a lender's quota shrank): borrowers give back first.
        for cohort in state.ledger.cohorts.keys.sorted() where state.ledger.overLent(cohort) {
            Preemptor.reclaim(cohort: cohort, by: nil, state, &plan)
        }
        guard options.ordering == .fairShare else {
            for request in pending { place(request) }
            return plan
        }
        // Within quota first, by priority then age; what must borrow waits for the fair order.
        var borrowing: [InstanceRequest] = []
        for request in pending.sorted(by: Self.priorityThenAge) {
            if state.ledger.fitsQuota(request.ministry, request.resources, priority: request.priority) {
                place(request)
            } else {
                borrowing.append(request)
            }
        }
        placeByFairShare(borrowing)
        return plan
    }

    /// Higher priority first, then older.
    static func priorityThenAge(_ a: InstanceRequest, _ b: InstanceRequest) -> Bool {
        (-a.priority.rank, a.sequence, a.id) < (-b.priority.rank, b.sequence, b.id)
    }

    /// Borrowing placements go first to the ministry whose share after the placement is lowest
    /// (DESIGN rule 10); ties: higher priority, then the older instance.
    func placeByFairShare(_ requests: [InstanceRequest]) {
        var queues = Dictionary(grouping: requests, by: \.ministry).mapValues {
            $0.sorted(by: Self.priorityThenAge)[...]
        }
        while !queues.isEmpty {
            var best: (ministry: String, share: FairShare, head: InstanceRequest)?
            for (ministry, queue) in queues {
                let head = queue.first!
                let share = state.ledger.fairShare(
                    ministry, borrowed: state.ledger.borrowed[ministry, default: .zero] + head.resources)
                if let current = best {
                    let better =
                        share < current.share
                        || (share == current.share && Self.priorityThenAge(head, current.head))
                    if !better { continue }
                }
                best = (ministry, share, head)
            }
            let next = best!
            queues[next.ministry]!.removeFirst()
            place(next.head)
            // Failed: the rest of its ministry's queue with the same failure key would hit the
            // failure cache one by one; they are marked now instead of being ordered first.
            let key = FailureKey(next.head)
            if let (code, reason) = failed[key], plan.unplaced.last?.instance == next.head.id {
                let rest = queues[next.ministry]!
                let same = rest.filter { FailureKey($0) == key }
                if !same.isEmpty {
                    for request in same {
                        plan.unplaced.append(Plan.Unplaced(instance: request.id, reason: reason, code: code))
                    }
                    queues[next.ministry] = rest.filter { FailureKey($0) != key }[...]
                }
            }
            if queues[next.ministry]!.isEmpty { queues[next.ministry] = nil }
        }
    }

    /// Quota usage after the plans made so far.
    public var ledger: QuotaLedger { state.ledger }

    /// Free capacity of a node after the plans made so far.
    public func free(_ node: String) -> Resources? { state.nodeIndex[node].map { state.free[$0] } }

    /// Number of nodes with at least one instance.
    public var nodesUsed: Int { state.placedCount.filter { $0 > 0 }.count }

    // MARK: Placing one instance

    private func place(_ request: InstanceRequest) {
        let key = FailureKey(request)
        if let (code, reason) = failed[key] {
            plan.unplaced.append(Plan.Unplaced(instance: request.id, reason: reason, code: code))
            return
        }
        let decision = state.ledger.decide(request.ministry, request.resources, priority: request.priority)
        if case .refused(let code, let why) = decision {
            if preempt(request) { return }
            fail(request, key, refinedCode(code, request), why)
            return
        }
        if let node = findNode(request) {
            commit(request, node: node, guaranteed: decision == .guaranteed)
            return
        }
        if preempt(request) { return }
        let (code, reason) = Explain.reason(request, state)
        fail(request, key, code, reason)
    }

    /// A borrower refused for lack of idle capacity waits for its fair share when other members
    /// of its cohort hold borrowed capacity it may not preempt (their shares are not above its own).
    private func refinedCode(_ code: PendingReason, _ request: InstanceRequest) -> PendingReason {
        guard code == .quotaExhausted, request.priority != .critical,
            let cohort = state.ledger.terms(of: request.ministry).cohort
        else { return code }
        let others = (state.ledger.cohorts[cohort] ?? []).filter { $0 != request.ministry }
        return others.contains { !(state.ledger.borrowed[$0] ?? .zero).fits(in: .zero) } ? .waitingForFairShare : code
    }

    private func fail(_ request: InstanceRequest, _ key: FailureKey, _ code: PendingReason, _ reason: String) {
        failed[key] = (code, reason)
        plan.unplaced.append(Plan.Unplaced(instance: request.id, reason: reason, code: code))
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
