import Foundation
import TansiqAPI
import TansiqModel
import TansiqStore

/// What one round of draining did.
public struct DrainProgress: Sendable, Equatable {
    /// Replacements created elsewhere (as Pending), by instance id.
    public var surged: [String] = []
    /// Instances taken off draining nodes (their agents stop them).
    public var removed: [String] = []
    /// Nodes that hold nothing any more.
    public var drained: [String] = []
}

extension Registry {
    /// True when an instance serves: Healthy, or Running without a health check.
    func isReady(_ instance: Instance) -> Bool {
        Self.isReady(instance, of: state.applications["\(instance.ministry)/\(instance.application)"])
    }

    /// The instances of `outgoing` that may go now, within an application's update bounds: each
    /// leaves only while `floor` (replicas - maxUnavailable) others stay active and ready. Those
    /// not serving go first, then the oldest. Removes them from `active`. Drain and rollout
    /// both take instances down this way.
    func takeDown(_ outgoing: [Instance], active: inout [Instance], floor: Int) -> [Instance] {
        var ready = active.filter(isReady).count
        var gone: [Instance] = []
        let order = outgoing.sorted {
            (isReady($0) ? 1 : 0, Self.serial(of: $0.id)) < (isReady($1) ? 1 : 0, Self.serial(of: $1.id))
        }
        for instance in order {
            let serving = isReady(instance)
            guard active.count - 1 >= floor, ready - (serving ? 1 : 0) >= floor else { continue }
            active.removeAll { $0.id == instance.id }
            if serving { ready -= 1 }
            gone.append(instance)
        }
        return gone
    }

    /// Starts draining a node: cordoned (no new instances) and marked draining; the drain loop
    /// then moves its instances off (`planDrainRound`).
    public func planDrain(
        name: String, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<
        ChangeResult
    > {
        guard Access.isOperator(caller) else { throw APIError(.forbidden, Access.refusal(caller, "drain nodes")) }
        guard var node = state.nodes[name] else { throw APIError(.notFound, "Node/\(name) does not exist") }
        node.cordoned = true
        node.draining = true
        var outcome = single(
            [.putNode(node)], object: "Node/\(name)", action: "node.drain", result: "draining", caller: caller,
            now: now,
            requestID: requestID)
        outcome.changeset.events.append(
            Event(
                time: now, kind: "Node", name: name, reason: "Draining",
                message:
                    "drain started by \(caller.subject); \(state.instances(onNode: name).filter(Self.isAssigned).count) instance(s) to move"
            ))
        return outcome
    }

    /// The `NoExecute` taint of its node that an instance does not tolerate, if any.
    func untoleratedNoExecute(_ instance: Instance) -> Taint? {
        guard let node = instance.node.flatMap({ state.nodes[$0] }) else { return nil }
        let tolerations =
            state.applications["\(instance.ministry)/\(instance.application)"]?.spec.placement.tolerations ?? []
        return node.taints.first { taint in
            taint.effect == .noExecute && !tolerations.contains { $0.tolerates(taint) }
        }
    }

    /// True when an instance must move off its node: the node drains, or carries a `NoExecute`
    /// taint the instance does not tolerate.
    func mustLeave(_ instance: Instance) -> Bool {
        guard Self.isAssigned(instance), instance.phase != .terminating, let node = instance.node else { return false }
        return state.nodes[node]?.draining == true || untoleratedNoExecute(instance) != nil
    }

    /// One round of moving instances off draining nodes and off nodes whose `NoExecute` taints
    /// they do not tolerate, application by application, lowest priority first. Each application
    /// keeps its `update` bounds: a replacement is started elsewhere while it has fewer than
    /// `replicas + maxSurge` instances, and an instance leaves its node only while at least
    /// `replicas - maxUnavailable` others serve.
    public func planDrainRound(now: Date) -> Outcome<DrainProgress> {
        var progress = DrainProgress()
        var mutations: [Mutation] = []
        var events: [Event] = []
        var serial = state.instanceSerial
        let stamp = RFC3339.truncated(now)
        let draining = state.nodes.values.filter(\.draining).map(\.name).sorted()
        let tainted = state.nodes.values.filter { $0.taints.contains { $0.effect == .noExecute } }.map(\.name)
        var moving: [String: [Instance]] = [:]
        // Taken off their nodes at once (a Terminating one stays until the gateways let it go).
        var gone: Set<String> = []
        for node in Set(draining + tainted).sorted() {
            for instance in state.instances(onNode: node) where mustLeave(instance) {
                moving["\(instance.ministry)/\(instance.application)", default: []].append(instance)
            }
        }
        let order = moving.keys.sorted { a, b in
            let pa = moving[a]![0].priority.rank
            let pb = moving[b]![0].priority.rank
            return pa != pb ? pa < pb : a < b
        }
        for key in order {
            let onDrain = Self.oldestFirst(moving[key]!)
            guard let app = state.applications[key] else { continue }
            let replicas = app.spec.replicas
            var active = state.instances(ofApplication: key).filter {
                (Self.isAssigned($0) || $0.phase == .pending) && $0.phase != .terminating
            }
            let floor = replicas - app.spec.update.maxUnavailable
            for instance in takeDown(onDrain, active: &active, floor: floor) {
                let mutation = retire(instance, now: now)
                if case .deleteInstance = mutation { gone.insert(instance.id) }
                mutations.append(mutation)
                progress.removed.append(instance.id)
                let taint = untoleratedNoExecute(instance)
                events.append(
                    Event(
                        time: stamp, kind: "Instance", ministry: instance.ministry, name: instance.id,
                        reason: taint == nil ? "Drained" : "Evicted",
                        message: "moved off node \(instance.node ?? "-"), "
                            + (taint.map { "whose taint \($0.key)=\($0.value):NoExecute it does not tolerate" }
                                ?? "which is draining")))
            }
            // Replacements: as many as the application lacks off the nodes it must leave, within its surge.
            let offDrain = active.filter { !mustLeave($0) }.count
            let room = replicas + app.spec.update.maxSurge - active.count
            let template = onDrain[0]
            for _ in 0..<max(0, min(room, replicas - offDrain)) {
                serial += 1
                let replacement = template.replacement(
                    serial: serial, reason: "moves off draining node \(template.node ?? "-")", at: stamp)
                mutations.append(.putInstance(replacement))
                progress.surged.append(replacement.id)
            }
        }
        for node in draining {
            let left = state.instances(onNode: node).filter { Self.isAssigned($0) && !gone.contains($0.id) }
            guard left.isEmpty else { continue }
            progress.drained.append(node)
            if var record = state.nodes[node] {
                record.draining = false
                mutations.append(.putNode(record))
                events.append(
                    Event(
                        time: stamp, kind: "Node", name: node, reason: "Drained",
                        message: "no instances left; still cordoned"))
            }
        }
        let moves = !mutations.isEmpty
        return Outcome(
            changeset: Changeset(
                basedOn: state.resourceVersion, resourceVersion: moves ? state.resourceVersion + 1 : nil,
                instanceSerial: serial == state.instanceSerial ? nil : serial, mutations: mutations, events: events),
            value: progress)
    }
}
