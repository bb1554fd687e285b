import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel
import TansiqScheduler
import TansiqStore

extension Registry {
    /// What applying `objects` would do now, without doing it (`POST /v1/plan`): apply's own
    /// admission (its refusals are thrown as apply throws them), then the first round of the
    /// rollouts it starts (so surge instances count), then one placement round — the scheduler on
    /// the resulting state, its plan re-checked by the plan applier exactly as the placement
    /// loop commits it. Answers, as `caller` may see it: the applied applications' instances
    /// placed (guaranteed or borrowed) and left pending (with reason codes), what would be
    /// preempted (another ministry's victim without its names), and each affected ministry's
    /// quota and fair share after.
    public func whatIf(
        _ objects: [LocatedObject], caller: Caller, now: Date, requestID: String, images: [String: String],
        secrets: [String: SecretChange] = [:], ready: (Node) -> Bool, options: SchedulerOptions = SchedulerOptions()
    ) throws(APIError) -> PlanResult {
        let admitted = try planApply(
            objects, caller: caller, now: now, requestID: requestID, images: images, secrets: secrets)
        var next = self
        next.apply(admitted.changeset)
        next.apply(next.planRolloutRound(now: now).changeset)
        let before = next.state
        let (snapshot, requests) = next.schedulingInput(now: now, ready: ready)
        let plan = Scheduler.plan(snapshot, requests, options: options)
        next.apply(next.planPlacement(plan, now: now, ready: ready).changeset)
        let after = next.state

        let applied = Set(
            objects.compactMap { item -> String? in
                guard case .application(let app) = item.object else { return nil }
                return app.key
            })
        // The ministry each object is of: a Ministry is its own.
        let ministries = Set(objects.map { $0.object.metadata.ministry ?? $0.object.metadata.name })
        let reasons = Dictionary(plan.unplaced.map { ($0.instance, $0) }, uniquingKeysWith: { a, _ in a })
        var placements: [PlanResult.Placement] = []
        var pending: [PlanResult.Pending] = []
        let mine = Self.oldestFirst(
            after.instances.values.filter { applied.contains("\($0.ministry)/\($0.application)") })
        for instance in mine where Access.canRead(caller, ministry: instance.ministry) {
            if instance.phase == .assigned, let node = instance.node, before.instances[instance.id]?.node == nil {
                placements.append(
                    PlanResult.Placement(
                        instance: instance.id, ministry: instance.ministry, application: instance.application,
                        node: node, guaranteed: instance.guaranteed))
            } else if instance.phase == .pending, instance.node == nil {
                let unplaced = reasons[instance.id]
                pending.append(
                    PlanResult.Pending(
                        instance: instance.id, ministry: instance.ministry, application: instance.application,
                        reason: unplaced?.reason ?? instance.reason ?? "waiting for the next placement round",
                        reasonCode: unplaced?.code ?? instance.reasonCode ?? .insufficientCapacity))
            }
        }
        var preemptions: [PlanResult.Preemption] = []
        var touched = ministries
        for preemption in plan.preemptions {
            guard let victim = after.instances[preemption.victim], victim.phase == .preempted,
                before.instances[preemption.victim]?.phase != .preempted
            else { continue }
            touched.insert(victim.ministry)
            let readable = Access.canRead(caller, ministry: victim.ministry)
            preemptions.append(
                PlanResult.Preemption(
                    instance: readable ? victim.id : nil, ministry: readable ? victim.ministry : nil,
                    application: readable ? victim.application : nil, reason: preemption.reason))
        }
        let ledger = next.usageLedger(now: now)
        let quotas = touched.filter { Access.canRead(caller, ministry: $0) && after.ministries[$0] != nil }.sorted()
            .map { name in
                PlanResult.Quota(
                    ministry: name, effective: ledger.terms(of: name).quota,
                    guaranteed: ledger.guaranteed[name] ?? .zero, borrowed: ledger.borrowed[name] ?? .zero,
                    fairShare: ledger.fairShare(name).perMille, weight: after.ministries[name]?.spec.weight ?? 1)
            }
        return PlanResult(
            items: admitted.value.items, warnings: admitted.value.warnings, placements: placements, pending: pending,
            preemptions: preemptions, quotas: quotas)
    }
}
