import TansiqModel

/// Finds the instances to evict so that one pending instance can run (DESIGN.md, preemption):
///
/// - within its ministry, instances of lower priority;
/// - across ministries only borrowed instances, and only when the preemptor then runs within its
///   own effective quota (a lender reclaiming what it lent; Kueue's `reclaimWithinCohort: Any`);
/// - never a `critical` instance, never another ministry's guaranteed one, never one placed by
///   the plan being built.
///
/// - between borrowers of a cohort (fair sharing, DESIGN rule 10): a preemptor that must borrow
///   may take borrowed instances of the cohort's other members when its share with the instance
///   is at most the victim ministry's share without its victims (`LessThanOrEqualToFinalShare`),
///   or else below the victim ministry's share before (`LessThanInitialShare`).
///
/// Candidates are taken borrowed before guaranteed, from the ministry of highest fair share
/// first, lowest priority first, newest first, until the preemptor fits; then each is given back
/// in reverse order if the preemptor still fits without it, so no victim in the set could be
/// spared. Among nodes, the fewest victims win, then the lowest highest-priority victim, then
/// snapshot order. Spread is not considered when preempting.
struct Preemptor {
    let state: ClusterState
    let request: InstanceRequest
    /// Which fair-sharing condition lets a borrower preempt another.
    let strategy: FairStrategy

    /// Kueue's two fair-sharing preemption strategies, tried in this order.
    enum FairStrategy: CaseIterable {
        /// share(P with the instance) ≤ share(T without its victims).
        case lessThanOrEqualToFinalShare
        /// share(P with the instance) < share(T) before the preemption.
        case lessThanInitialShare
    }

    init(state: ClusterState, request: InstanceRequest, strategy: FairStrategy = .lessThanOrEqualToFinalShare) {
        self.state = state
        self.request = request
        self.strategy = strategy
        var shares: [String: FairShare] = [:]
        for (cohort, members) in state.ledger.cohorts where cohort == state.ledger.terms(of: request.ministry).cohort {
            for member in members { shares[member] = state.ledger.fairShare(member) }
        }
        self.shares = shares
    }

    /// The shares of the preemptor's cohort before the preemption.
    let shares: [String: FairShare]

    typealias Record = ClusterState.Record

    /// A node and the victims that make room on it, or nil when none does. `roomy`: a node
    /// where the request fits as things are, when only its quota blocks it.
    func find(roomy: Int? = nil) -> (node: Int, victims: [Record])? {
        let quotaRefused: Bool
        if case .refused = state.ledger.decide(request.ministry, request.resources, priority: request.priority) {
            quotaRefused = true
        } else {
            quotaRefused = false
        }
        // Only the quota blocks and a node has room: which victims free the quota does not
        // depend on where they run, so no search over nodes.
        if quotaRefused, let roomy { return quotaVictims(on: roomy).map { (roomy, $0) } }
        // When the quota is what blocks, lower-priority instances of the same ministry anywhere can
        // free it, and borrowed instances of the cohort's other members give back idle capacity.
        let offNode: [Record] =
            quotaRefused
            ? state.instances.values.filter {
                evictable($0) && ($0.ministry == request.ministry || shares[$0.ministry] != nil)
            }.sorted(by: victimOrder) : []
        let members = state.classStore[state.nodeClass(request.constraints.staticPart)].members
        var best: (node: Int, victims: [Record], score: [Int])?
        for node in members {
            let local = state.onNode[node].compactMap { state.instances[$0] }.filter(evictable)
                .sorted(by: victimOrder)
            if local.isEmpty && offNode.isEmpty { continue }
            let room = local.reduce(state.free[node]) { $0 + $1.resources }
            guard request.resources.fits(in: room) else { continue }
            let candidates = local + offNode.filter { $0.node != node }
            var chosen: [Record] = []
            var found = false
            for victim in candidates {
                chosen.append(victim)
                if works(node, chosen) {
                    found = true
                    break
                }
            }
            guard found else { continue }
            for index in chosen.indices.reversed() {
                var without = chosen
                without.remove(at: index)
                if works(node, without) { chosen = without }
            }
            let score = [chosen.count, chosen.map(\.priority.rank).max() ?? -1, node]
            if best == nil || score.lexicographicallyPrecedes(best!.score) { best = (node, chosen, score) }
        }
        return best.map { ($0.node, $0.victims) }
    }

    /// Victims anywhere that let the request's quota take it, in victim order: borrowed
    /// instances of the cohort's other members, the highest share first (only members whose
    /// share is above the preemptor's with the request: no other could satisfy either
    /// strategy), then the preemptor's own lower-priority instances, borrowed then guaranteed.
    /// Taken greedily until the request is admitted, then each given back if it can be spared.
    func quotaVictims(on node: Int) -> [Record]? {
        var chosen: [Record] = []
        var done = false
        let ledger = state.ledger
        let mine = ledger.fairShare(
            request.ministry, borrowed: (ledger.borrowed[request.ministry] ?? .zero) + request.resources)
        let others = shares.filter { $0.key != request.ministry && $0.value > mine }
            .sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map(\.key)
        var freed = Resources.zero
        for ministry in others where !done {
            state.liveBorrowed(ministry) { victim in
                guard evictable(victim) else { return true }
                chosen.append(victim)
                freed += victim.resources
                if works(node, chosen) {
                    done = true
                    return false
                }
                // As much as the request freed and still refused: more of the same will not help.
                if request.resources.fits(in: freed) {
                    chosen.removeLast()
                    return false
                }
                return true
            }
        }
        if !done {
            chosen = []
            let own = state.instances.values.filter {
                $0.ministry == request.ministry && evictable($0)
            }.sorted(by: victimOrder)
            for victim in own {
                chosen.append(victim)
                if works(node, chosen) {
                    done = true
                    break
                }
            }
        }
        guard done else { return nil }
        for index in chosen.indices.reversed() {
            var without = chosen
            without.remove(at: index)
            if works(node, without) { chosen = without }
        }
        return chosen
    }

    /// Whether a live instance may be evicted for the preemptor at all.
    func evictable(_ victim: Record) -> Bool {
        guard !state.planned(victim), victim.priority != .critical else { return false }
        if victim.ministry == request.ministry { return victim.priority < request.priority }
        return !victim.guaranteed
    }

    /// Borrowed before guaranteed, the highest fair share first, lowest priority first, newest first.
    func victimOrder(_ a: Record, _ b: Record) -> Bool {
        let shareA = shares[a.ministry] ?? .zero
        let shareB = shares[b.ministry] ?? .zero
        if a.guaranteed != b.guaranteed { return !a.guaranteed }
        if shareA != shareB { return shareA > shareB }
        return Self.victimOrder(a, b)
    }

    /// Borrowed before guaranteed, lowest priority first, newest first.
    static func victimOrder(_ a: Record, _ b: Record) -> Bool {
        (a.guaranteed ? 1 : 0, a.priority.rank, -a.sequence, a.id)
            < (b.guaranteed ? 1 : 0, b.priority.rank, -b.sequence, b.id)
    }

    /// True when, with `victims` gone, the preemptor fits on `node` and within its share, and
    /// any victim of another ministry is given up for a placement within the preemptor's quota.
    func works(_ node: Int, _ victims: [Record]) -> Bool {
        var free = state.free[node]
        var ports = state.usedPorts[node]
        var sameApp = state.appOnNode[request.applicationKey]?[node] ?? 0
        var ledger = state.ledger
        var crossMinistry = false
        for victim in victims {
            ledger.remove(victim.ministry, victim.resources, guaranteed: victim.guaranteed)
            if victim.ministry != request.ministry { crossMinistry = true }
            guard victim.node == node else { continue }
            free += victim.resources
            ports.subtract(victim.constraints.fixedPorts)
            if victim.applicationKey == request.applicationKey { sameApp -= 1 }
        }
        guard request.resources.fits(in: free), ports.isDisjoint(with: request.constraints.fixedPorts) else {
            return false
        }
        if let max = request.constraints.maxPerNode, sameApp >= max { return false }
        switch ledger.decide(request.ministry, request.resources, priority: request.priority) {
        case .refused: return false
        case .borrowed: return !crossMinistry || fairShareAllows(victims, after: ledger)
        case .guaranteed: return true
        }
    }

    /// Whether a borrowing preemptor may take `victims` of other members of its cohort: each
    /// victim ministry in the cohort, and the strategy's condition holding for each. The
    /// preemptor's share counts all the room the victims make (at least its request): what it
    /// does not use, its ministry's next instances would, and counting less would let two
    /// ministries of different instance sizes take the same capacity back and forth.
    func fairShareAllows(_ victims: [Record], after removal: QuotaLedger) -> Bool {
        var after = removal
        let freed = victims.filter { $0.ministry != request.ministry }
            .reduce(Resources.zero) { $0 + $1.resources }
        after.add(request.ministry, request.resources.componentMax(freed), guaranteed: false)
        let mine = after.fairShare(request.ministry)
        for target in Set(victims.map(\.ministry)) where target != request.ministry {
            guard let before = shares[target] else { return false }
            switch strategy {
            case .lessThanOrEqualToFinalShare: if !(mine <= after.fairShare(target)) { return false }
            case .lessThanInitialShare: if !(mine < before) { return false }
            }
        }
        return true
    }

    /// Evicts borrowers of the cohort, lowest priority and newest first, until its members lend
    /// at least what is borrowed: a lender that placed within its own quota gets capacity back.
    /// A borrower placed earlier in the same plan is displaced (left pending) rather than evicted.
    static func reclaim(cohort: String, by preemptor: InstanceRequest?, _ state: ClusterState, _ plan: inout Plan) {
        let cause = preemptor == nil ? "its members' quotas shrank" : "a member placed within its own quota"
        while state.ledger.overLent(cohort) {
            // Each member's next victim is the last of its queue: the cohort's is the first of those.
            let members = state.ledger.cohorts[cohort] ?? []
            var heads: [Record] = []
            for member in members {
                state.liveBorrowed(member) { record in
                    heads.append(record)
                    return false
                }
            }
            guard let victim = heads.min(by: Self.victimOrder) else { return }
            state.remove(victim.id)
            let reason = "reclaimed: \(cause) and cohort \(cohort) lends less than its members borrow"
            if state.planned(victim) {
                // The newest go first, so the displaced one is near the end.
                if let index = plan.assignments.lastIndex(where: { $0.instance == victim.id }) {
                    plan.assignments.remove(at: index)
                }
                plan.unplaced.append(Plan.Unplaced(instance: victim.id, reason: reason, code: .quotaExhausted))
            } else {
                plan.preemptions.append(
                    Plan.Preemption(victim: victim.id, preemptor: preemptor?.id, reason: reason))
            }
        }
    }
}

extension Scheduler {
    /// Tries preemption for a request; on success evicts, places and records both.
    func preempt(_ request: InstanceRequest) -> Bool {
        var roomy: Int?
        if case .refused = state.ledger.decide(request.ministry, request.resources, priority: request.priority) {
            roomy = findNode(request)
        }
        let found = Preemptor.FairStrategy.allCases.lazy.compactMap {
            Preemptor(state: self.state, request: request, strategy: $0).find(roomy: roomy)
        }.first
        guard let (node, victims) = found else { return false }
        let borrowing: Bool
        if case .guaranteed = state.ledger.decide(request.ministry, request.resources, priority: request.priority) {
            borrowing = false
        } else {
            borrowing = true
        }
        for victim in victims {
            state.remove(victim.id)
            // Another ministry's victim is told why, never by whom (ids of other ministries stay theirs).
            let reason =
                victim.ministry == request.ministry
                ? "preempted by \(request.applicationKey) instance \(request.id) on node \(state.nodes[node].name): "
                    + "lower priority (\(victim.priority.rawValue) < \(request.priority.rawValue))"
                : borrowing
                    ? "preempted to restore the cohort's fair share"
                    : "preempted: another ministry of the cohort reclaimed the quota it lent"
            plan.preemptions.append(Plan.Preemption(victim: victim.id, preemptor: request.id, reason: reason))
        }
        let decision = state.ledger.decide(request.ministry, request.resources, priority: request.priority)
        commit(request, node: node, guaranteed: decision == .guaranteed)
        return true
    }
}

extension Resources {
    /// The larger of each component.
    func componentMax(_ other: Resources) -> Resources {
        Resources(
            cpuMillis: max(cpuMillis, other.cpuMillis), memoryBytes: max(memoryBytes, other.memoryBytes),
            storageBytes: max(storageBytes, other.storageBytes), instances: max(instances, other.instances))
    }
}
