import Foundation
import TansiqModel
import TansiqScheduler
import TansiqStore

extension Registry {
    /// The instances waiting for a node.
    public var pending: [Instance] {
        state.unplacedInstanceIDs.compactMap { state.instances[$0] }.filter { $0.phase == .pending }
    }

    /// What the scheduler plans on: Ready, uncordoned nodes (as `ready(name)` says), every
    /// ministry's quota terms, the placed instances; and the pending instances as requests.
    public func schedulingInput(
        now: Date, ready: (Node) -> Bool, only candidates: Set<String>? = nil
    ) -> (Snapshot, [InstanceRequest]) {
        (schedulingSnapshot(now: now, ready: ready), schedulingRequests(only: candidates))
    }

    /// The pending instances as the scheduler's requests, oldest first: all of them, or those of
    /// `candidates` still pending.
    public func schedulingRequests(only candidates: Set<String>? = nil) -> [InstanceRequest] {
        let waiting =
            candidates.map { ids in
                ids.compactMap { state.instances[$0] }.filter { $0.node == nil && $0.phase == .pending }
            } ?? self.pending
        // Oldest first: by the serial each request already carries (not parsed again per comparison).
        var constraints: ConstraintsCache = [:]
        return waiting.map { request(for: $0, constraints: &constraints) }.sorted { $0.sequence < $1.sequence }
    }

    /// The one adapter from the model to the scheduler: nodes (Ready as `ready` says), every
    /// ministry's quota terms, and the placed instances with their applications' constraints —
    /// of every node, or of `only` those nodes (and what is on them).
    public func schedulingSnapshot(now: Date, ready: (Node) -> Bool, only: Set<String>? = nil) -> Snapshot {
        var nodes: [SchedulerNode] = []
        var placed: [PlacedInstance] = []
        var constraints: ConstraintsCache = [:]
        func take(_ node: Node) {
            nodes.append(
                SchedulerNode(
                    name: node.name, allocatable: node.allocatable, labels: node.labels, taints: node.taints,
                    ready: ready(node), cordoned: node.cordoned))
        }
        func take(_ ids: Set<String>) {
            for id in ids {
                guard let instance = state.instances[id], Self.isAssigned(instance), let node = instance.node else {
                    continue
                }
                placed.append(
                    PlacedInstance(
                        request: request(for: instance, constraints: &constraints), node: node,
                        guaranteed: instance.guaranteed))
            }
        }
        if let only {
            for name in only {
                guard let node = state.nodes[name] else { continue }
                take(node)
                take(state.instanceIDsByNode[name] ?? [])
            }
        } else {
            nodes.reserveCapacity(state.nodes.count)
            placed.reserveCapacity(state.instances.count)
            for node in state.nodes.values { take(node) }
            for ids in state.instanceIDsByNode.values { take(ids) }
        }
        let ledger = Self.ledger(of: state, now: now)
        return Snapshot(nodes: nodes, ministries: Array(ledger.terms.values), placed: placed)
    }

    /// A digest of everything placement depends on besides the pending instances themselves:
    /// the scheduler's terms (`termsFingerprint`) and what is placed. While it is unchanged, an
    /// instance that found no place last round would find none again.
    public func capacityFingerprint(now: Date, ready: (Node) -> Bool) -> Int {
        capacityFingerprint(terms: termsFingerprint(now: now, ready: ready))
    }

    /// `capacityFingerprint` with the terms' digest already taken.
    public func capacityFingerprint(terms: Int) -> Int {
        var hasher = Hasher()
        hasher.combine(terms)
        // What is placed, from the sums the state keeps (not a pass over every instance).
        var placed = 0
        var total = Resources.zero
        for usage in state.usage.values {
            placed += usage.guaranteedCount + usage.borrowedCount
            total += usage.guaranteed + usage.borrowed
        }
        hasher.combine(placed)
        hasher.combine(total)
        return hasher.finalize()
    }

    /// A digest of what a snapshot gives the scheduler besides the instances: every node
    /// (readiness as `ready` says, cordon, capacity, labels, taints) and every ministry's quota
    /// terms at `now` (grants come and go with the clock). Taken each round, not tracked by
    /// revision: readiness changes with heartbeats and time alone.
    public func termsFingerprint(now: Date, ready: (Node) -> Bool) -> Int {
        var hasher = Hasher()
        // Each node hashed alone and the hashes summed: the same whatever order the nodes come
        // in, without sorting thousands of names every round.
        var nodes = 0
        for node in state.nodes.values {
            var one = Hasher()
            one.combine(node.name)
            one.combine(ready(node))
            one.combine(node.cordoned)
            one.combine(node.allocatable)
            one.combine(node.labels)
            one.combine(node.taints)
            nodes &+= one.finalize()
        }
        hasher.combine(nodes)
        hasher.combine(state.nodes.count)
        for terms in Self.ledger(of: state, now: now).terms.values.sorted(by: { $0.ministry < $1.ministry }) {
            hasher.combine(terms)
        }
        return hasher.finalize()
    }

    /// True when `mutations`, applied to `state`, change what the scheduler reads of the cluster
    /// besides quota terms and readiness by the clock: an instance starts or stops holding
    /// resources, or one that holds them moves or changes its request, priority, owner or
    /// guaranteed flag; an application with instances changes its constraints or goes; a node
    /// is written or removed. A status that moves an instance from Assigned to Running changes
    /// nothing here. Over-approximates within one changeset (each put is compared with the state
    /// before it all), never under.
    static func changesScheduling(_ mutations: [Mutation], in state: StoredState) -> Bool {
        mutations.contains { mutation in
            switch mutation {
            case .putInstance(let instance):
                return PlacedView(state.instances[instance.id]) != PlacedView(instance)
            case .deleteInstance(let id):
                return state.instances[id].map(isAssigned) ?? false
            case .putApplication(let application):
                return constraintsChange(application.key, to: application.spec, in: state)
            case .deleteApplication(let ministry, let name):
                return constraintsChange("\(ministry)/\(name)", to: nil, in: state)
            case .putNode, .deleteNode:
                return true
            default:
                return false
            }
        }
    }

    /// An instance as a scheduler's placed record holds it; nil for one that holds no resources.
    private struct PlacedView: Equatable {
        var node: String
        var ministry: String
        var application: String
        var priority: Priority
        var resources: Resources
        var guaranteed: Bool

        init?(_ instance: Instance?) {
            guard let instance, Registry.isAssigned(instance), let node = instance.node else { return nil }
            self.node = node
            ministry = instance.ministry
            application = instance.application
            priority = instance.priority
            resources = instance.resources.vector
            guaranteed = instance.guaranteed
        }
    }

    /// True when the application `key`, which has instances, gets other constraints from `spec`.
    private static func constraintsChange(_ key: String, to spec: ApplicationSpec?, in state: StoredState) -> Bool {
        state.instanceIDsByApplication[key] != nil
            && constraints(of: state.applications[key]?.spec) != constraints(of: spec)
    }

    /// An instance as the scheduler sees it: its application's constraints, its age as sequence.
    func request(for instance: Instance) -> InstanceRequest {
        var constraints: ConstraintsCache = [:]
        return request(for: instance, constraints: &constraints)
    }

    /// `request(for:)`, each application's constraints built once per `cache` (a snapshot holds
    /// a request for every placed instance).
    func request(for instance: Instance, constraints cache: inout ConstraintsCache) -> InstanceRequest {
        let constraints =
            cache[instance.ministry]?[instance.application]
            ?? {
                let built = Self.constraints(
                    of: state.applications["\(instance.ministry)/\(instance.application)"]?.spec)
                cache[instance.ministry, default: [:]][instance.application] = built
                return built
            }()
        return InstanceRequest(
            id: instance.id, ministry: instance.ministry, application: instance.application,
            priority: instance.priority, resources: instance.resources.vector, constraints: constraints,
            sequence: Self.serial(of: instance.id))
    }

    /// An application's placement constraints as the scheduler takes them (none for one gone).
    static func constraints(of spec: ApplicationSpec?) -> Constraints {
        let placement = spec?.placement ?? Placement()
        return Constraints(
            datacentres: placement.datacentres, nodeSelector: placement.nodeSelector,
            tolerations: placement.tolerations, spread: placement.spread, maxPerNode: placement.maxPerNode,
            fixedPorts: (spec?.ports ?? []).map(\.port).filter { $0 > 0 })
    }

    /// The nodes a re-check of `plan` needs: every filter but spread looks at the node alone (its
    /// readiness, labels, taints, free resources, ports, the application's count on it), so a
    /// plan without spread needs only the nodes it places on; nil (all of them) for one with.
    func recheckedNodes(_ plan: Plan) -> Set<String>? {
        var nodes = Set<String>()
        var constraints: ConstraintsCache = [:]
        for assignment in plan.assignments {
            guard let instance = state.instances[assignment.instance] else { continue }
            if request(for: instance, constraints: &constraints).constraints.spread != nil { return nil }
            nodes.insert(assignment.node)
        }
        return nodes
    }

    /// Constraints already built, by ministry and application (looked up without building a key).
    typealias ConstraintsCache = [String: [String: Constraints]]

    /// True when the preemptor is of the victim's ministry (another ministry's id is never shown).
    private func sameMinistry(_ preemptor: String?, _ victim: Instance) -> Bool {
        guard let preemptor, let instance = state.instances[preemptor] else { return false }
        return instance.ministry == victim.ministry
    }

    /// Commits a scheduler plan made on an earlier snapshot, re-checked against this state (the
    /// plan applier): a victim still runs where it ran; an instance is still pending; its node
    /// still passes every filter of the scheduler, by the scheduler's own code (`Feasibility`:
    /// Ready, uncordoned, datacentres, selector, taints, fit, fixed ports, maxPerNode, spread; on a
    /// snapshot of the plan's own nodes when nothing in it spreads, `recheckedNodes`);
    /// its ministry's quota still takes it (as guaranteed or borrowed, decided again here). What
    /// no longer holds is left for the next round. Preempted instances get replacements, so their applications keep their
    /// replicas. A plan made on a state the scheduler would read the same (`plannedOn` is this
    /// registry's `schedulingRevision`: nothing committed between planning and now changed a
    /// placed instance, a node or an application's constraints; statuses may have come) passed
    /// the scheduler's own filters on it already; only its quota decisions are made again.
    public func planPlacement(
        _ plan: Plan, now: Date, plannedOn: Int? = nil, ready: (Node) -> Bool
    ) -> Outcome<PlacementResult> {
        var mutations: [Mutation] = []
        // What this plan has written so far, by id, over the state: each instance is read as the
        // plan left it (a victim, its replacement, an assigned instance), without a working copy
        // of the whole state and its indexes.
        var written: [String: Instance] = [:]
        func current(_ id: String) -> Instance? { written[id] ?? state.instances[id] }
        func write(_ instance: Instance) {
            written[instance.id] = instance
            mutations.append(.putInstance(instance))
        }
        var events: [Event] = []
        var serial = state.instanceSerial
        var ledger = usageLedger(now: now)
        // Built only when something is to be placed on a state that moved since the plan: a round
        // that only records reasons needs none, nor one whose state is the plan's.
        let recheck = plannedOn != schedulingRevision
        let feasibility =
            plan.assignments.isEmpty || !recheck
            ? nil : Feasibility(schedulingSnapshot(now: now, ready: ready, only: recheckedNodes(plan)))
        var asPlanned = true
        for preemption in plan.preemptions {
            guard let running = current(preemption.victim), Self.isAssigned(running) else {
                asPlanned = false
                continue
            }
            ledger.remove(running.ministry, running.resources.vector, guaranteed: running.guaranteed)
            feasibility?.evict(running.id)
            let victim = running.ended(.preempted, reason: preemption.reason, at: now)
            write(victim)
            serial += 1
            let replacement = victim.replacement(serial: serial, reason: "replaces \(victim.id), preempted", at: now)
            write(replacement)
            events.append(
                Event(
                    time: now, kind: "Instance", ministry: victim.ministry, name: victim.id, reason: "Preempted",
                    message: "preempted on \(victim.node ?? "-")"
                        + (sameMinistry(preemption.preemptor, victim) ? " for \(preemption.preemptor!)" : "")
                        + ": \(preemption.reason); replaced by \(replacement.id)"))
        }
        var placed = 0
        var constraints: ConstraintsCache = [:]
        for assignment in plan.assignments {
            guard var instance = current(assignment.instance), instance.node == nil, instance.phase == .pending,
                let node = state.nodes[assignment.node]
            else {
                asPlanned = false
                continue
            }
            // As the scheduler sees it: built only for a re-check.
            let scheduling = feasibility.map { _ in self.request(for: instance, constraints: &constraints) }
            if recheck {
                guard let feasibility, let scheduling, feasibility.reject(scheduling, on: node.name) == nil else {
                    asPlanned = false
                    continue
                }
            }
            let request = instance.resources.vector
            let guaranteed: Bool
            switch ledger.decide(instance.ministry, request, priority: instance.priority) {
            case .guaranteed: guaranteed = true
            case .borrowed: guaranteed = false
            case .refused:
                asPlanned = false
                continue
            }
            if guaranteed != assignment.guaranteed { asPlanned = false }
            ledger.add(instance.ministry, request, guaranteed: guaranteed)
            if let feasibility, let scheduling { feasibility.place(scheduling, on: node.name, guaranteed: guaranteed) }
            instance.node = node.name
            instance.phase = .assigned
            instance.guaranteed = guaranteed
            instance.reason = nil
            instance.reasonCode = nil
            instance.assignedAt = now
            write(instance)
            events.append(
                Event(
                    time: now, kind: "Instance", ministry: instance.ministry, name: instance.id, reason: "Scheduled",
                    message: "assigned to node \(node.name), \(guaranteed ? "guaranteed" : "borrowed from the cohort")")
            )
            placed += 1
        }
        for unplaced in plan.unplaced {
            guard var instance = current(unplaced.instance), instance.node == nil,
                instance.reason != unplaced.reason || instance.reasonCode != unplaced.code
            else { continue }
            instance.reason = unplaced.reason
            instance.reasonCode = unplaced.code
            write(instance)
        }
        let moves = placed > 0 || !plan.preemptions.isEmpty
        return Outcome(
            changeset: Changeset(
                basedOn: state.resourceVersion, resourceVersion: moves ? state.resourceVersion + 1 : nil,
                instanceSerial: serial == state.instanceSerial ? nil : serial, mutations: mutations, events: events),
            value: PlacementResult(placed: placed, asPlanned: asPlanned))
    }
}

/// What the plan applier made of a plan.
public struct PlacementResult: Sendable, Equatable {
    /// Instances placed.
    public var placed: Int
    /// Every preemption and every assignment was taken as the scheduler made it (the same
    /// victims, nodes and guaranteed flags): once committed, the state holds what the scheduler
    /// holds after planning.
    public var asPlanned: Bool
}
