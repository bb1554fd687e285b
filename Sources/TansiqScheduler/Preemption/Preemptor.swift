import TansiqModel

/// Finds the instances to evict so that one pending instance can run (DESIGN.md, preemption):
///
/// - within its ministry, instances of lower priority;
/// - across ministries only borrowed instances, and only when the preemptor then runs within its
///   own effective quota (a lender reclaiming what it lent; Kueue's `reclaimWithinCohort: Any`);
/// - never a `critical` instance, never another ministry's guaranteed one, never one placed by
///   the plan being built.
///
/// Candidates are taken borrowed before guaranteed, lowest priority first, newest first, until
/// the preemptor fits; then each is given back in reverse order if the preemptor still fits
/// without it, so no victim in the set could be spared. Among nodes, the fewest victims win, then
/// the lowest highest-priority victim, then snapshot order. Spread is not considered when
/// preempting.
struct Preemptor {
    let state: ClusterState
    let request: InstanceRequest

    typealias Record = ClusterState.Record

    /// A node and the victims that make room on it, or nil when none does.
    func find() -> (node: Int, victims: [Record])? {
        let quotaRefused: Bool
        if case .refused = state.ledger.decide(request.ministry, request.resources, priority: request.priority) {
            quotaRefused = true
        } else {
            quotaRefused = false
        }
        // When the quota is what blocks, lower-priority instances of the same ministry anywhere can free it.
        let offNode: [Record] =
            quotaRefused
            ? state.instances.values.filter { $0.request.ministry == request.ministry && evictable($0) }
                .sorted(by: Self.victimOrder) : []
        let members = state.classStore[state.nodeClass(request.constraints.staticPart)].members
        var best: (node: Int, victims: [Record], score: [Int])?
        for node in members {
            let local = state.onNode[node].compactMap { state.instances[$0] }.filter(evictable)
                .sorted(by: Self.victimOrder)
            if local.isEmpty && offNode.isEmpty { continue }
            let room = local.reduce(state.free[node]) { $0 + $1.request.resources }
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
            let score = [chosen.count, chosen.map(\.request.priority.rank).max() ?? -1, node]
            if best == nil || score.lexicographicallyPrecedes(best!.score) { best = (node, chosen, score) }
        }
        return best.map { ($0.node, $0.victims) }
    }

    /// Whether a live instance may be evicted for the preemptor at all.
    func evictable(_ victim: Record) -> Bool {
        guard !victim.planned, victim.request.priority != .critical else { return false }
        if victim.request.ministry == request.ministry { return victim.request.priority < request.priority }
        return !victim.guaranteed
    }

    /// Borrowed before guaranteed, lowest priority first, newest first.
    static func victimOrder(_ a: Record, _ b: Record) -> Bool {
        (a.guaranteed ? 1 : 0, a.request.priority.rank, -a.request.sequence, a.request.id)
            < (b.guaranteed ? 1 : 0, b.request.priority.rank, -b.request.sequence, b.request.id)
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
            ledger.remove(victim.request.ministry, victim.request.resources, guaranteed: victim.guaranteed)
            if victim.request.ministry != request.ministry { crossMinistry = true }
            guard victim.node == node else { continue }
            free += victim.request.resources
            ports.subtract(victim.request.constraints.fixedPorts)
            if victim.request.applicationKey == request.applicationKey { sameApp -= 1 }
        }
        guard request.resources.fits(in: free), ports.isDisjoint(with: request.constraints.fixedPorts) else {
            return false
        }
        if let max = request.constraints.maxPerNode, sameApp >= max { return false }
        switch ledger.decide(request.ministry, request.resources, priority: request.priority) {
        case .refused: return false
        case .borrowed: return !crossMinistry
        case .guaranteed: return true
        }
    }

    /// Evicts borrowers of the cohort, lowest priority and newest first, until its members lend
    /// at least what is borrowed: a lender that placed within its own quota gets capacity back.
    /// A borrower placed earlier in the same plan is displaced (left pending) rather than evicted.
    static func reclaim(cohort: String, by preemptor: InstanceRequest?, _ state: ClusterState, _ plan: inout Plan) {
        let cause =
            preemptor.map { "\($0.ministry) placed \($0.id) within its own quota" }
            ?? "its members' quotas shrank"
        while state.ledger.overLent(cohort) {
            let members = state.ledger.cohorts[cohort] ?? []
            let candidates = members.flatMap { state.borrowedIDs[$0] ?? [] }
                .compactMap { state.instances[$0] }
            guard let victim = candidates.min(by: victimOrder) else { return }
            state.remove(victim.request.id)
            let reason = "reclaimed: \(cause) and cohort \(cohort) lends less than its members borrow"
            if victim.planned {
                plan.assignments.removeAll { $0.instance == victim.request.id }
                plan.unplaced.append(Plan.Unplaced(instance: victim.request.id, reason: reason))
            } else {
                plan.preemptions.append(
                    Plan.Preemption(victim: victim.request.id, preemptor: preemptor?.id, reason: reason))
            }
        }
    }
}

extension Scheduler {
    /// Tries preemption for a request; on success evicts, places and records both.
    func preempt(_ request: InstanceRequest) -> Bool {
        guard let (node, victims) = Preemptor(state: state, request: request).find() else { return false }
        for victim in victims {
            state.remove(victim.request.id)
            let how =
                victim.request.ministry == request.ministry
                ? "lower priority (\(victim.request.priority.rawValue) < \(request.priority.rawValue))"
                : "borrowed capacity reclaimed by \(request.ministry) within its quota"
            plan.preemptions.append(
                Plan.Preemption(
                    victim: victim.request.id, preemptor: request.id,
                    reason: "preempted by \(request.applicationKey) instance \(request.id) on node "
                        + "\(state.nodes[node].name): \(how)"))
        }
        let decision = state.ledger.decide(request.ministry, request.resources, priority: request.priority)
        commit(request, node: node, guaranteed: decision == .guaranteed)
        return true
    }
}
