import Foundation
import TansiqModel
import TansiqStore

/// What one round of failure detection decided.
public struct NodeFailures: Sendable, Equatable {
    /// Nodes that became NotReady this round.
    public var notReady: [String] = []
    /// Nodes whose instances were marked Lost and replaced.
    public var evicted: [String] = []
    /// NotReady nodes whose instances were left alone: more than half their zone is NotReady
    /// (a partition, not dead nodes), or the eviction budget ran out.
    public var held: [String] = []
}

extension Registry {
    /// The zone of a node, for the partition rule (`-` without a `zone` label).
    static func zone(of node: Node) -> String { node.labels["zone"] ?? "-" }

    /// One round of DESIGN.md's failure rules. A node recorded Ready whose status has not arrived
    /// for the grace period (`lastHeard` says when it last did) becomes NotReady. The instances
    /// of a NotReady node are marked Lost and replaced by new Pending ones — at most `budget`
    /// nodes a round (evictions are rate-limited), none in a zone where more than half the nodes
    /// and at least two are silent (a partition, not dead nodes; a lone node's zone is its
    /// own, and its failure is a failure), and none at all while every node is silent (then it
    /// is the controller that is cut off). Silent counts the NotReady nodes and the Ready ones
    /// unheard for more than half the grace period: nodes cut off at the same moment cross the
    /// grace period up to a status interval apart, and the first to cross must not be evicted
    /// alone before the others are counted. A lost instance is out of its node's assignments, so
    /// when the node returns its agent stops it (fencing).
    public func planNodeFailures(now: Date, budget: Int, lastHeard: (String) -> Date) -> Outcome<NodeFailures> {
        var report = NodeFailures()
        var mutations: [Mutation] = []
        var events: [Event] = []
        let stamp = RFC3339.truncated(now)
        var phase: [String: NodePhase] = [:]
        var silent: Set<String> = []
        let nodes = state.nodes.values.sorted { $0.name < $1.name }
        for node in nodes {
            var current = node.phase
            if current == .ready, now.timeIntervalSince(lastHeard(node.name)) > gracePeriod {
                current = .notReady
                var changed = node
                changed.phase = .notReady
                mutations.append(.putNode(changed))
                report.notReady.append(node.name)
                events.append(
                    Event(
                        time: stamp, kind: "Node", name: node.name, reason: "NotReady",
                        message: "no status for more than \(Int(gracePeriod)) s"))
            }
            phase[node.name] = current
            if current == .notReady || now.timeIntervalSince(lastHeard(node.name)) > gracePeriod / 2 {
                silent.insert(node.name)
            }
        }
        var zones: [String: (total: Int, down: Int)] = [:]
        for node in state.nodes.values where node.phase != .joining {
            let zone = Self.zone(of: node)
            zones[zone, default: (0, 0)].total += 1
            if silent.contains(node.name) { zones[zone, default: (0, 0)].down += 1 }
        }
        let everyNodeDown = !zones.isEmpty && zones.values.allSatisfy { $0.down == $0.total }
        func partitioned(_ zone: (total: Int, down: Int)) -> Bool {
            everyNodeDown || (zone.down >= 2 && zone.down * 2 > zone.total)
        }
        var budget = budget
        var serial = state.instanceSerial
        for node in nodes where phase[node.name] == .notReady {
            let held = state.instances(onNode: node.name).filter(Self.isAssigned)
            guard !held.isEmpty else { continue }
            let zone = zones[Self.zone(of: node)] ?? (1, 1)
            guard !partitioned(zone), budget > 0 else {
                report.held.append(node.name)
                continue
            }
            events.append(
                Event(
                    time: stamp, kind: "Node", name: node.name, reason: "Evicted",
                    message: "\(held.count) instance(s) marked Lost and replaced"))
            budget -= 1
            report.evicted.append(node.name)
            for instance in Self.oldestFirst(held) {
                let lost = instance.ended(
                    .lost, reason: "node \(node.name) is NotReady: no status for more than \(Int(gracePeriod)) s",
                    at: stamp)
                mutations.append(.putInstance(lost))
                guard state.applications["\(instance.ministry)/\(instance.application)"] != nil else { continue }
                serial += 1
                events.append(
                    Event(
                        time: stamp, kind: "Instance", ministry: instance.ministry, name: instance.id, reason: "Lost",
                        message:
                            "\(lost.reason ?? ""); replaced by \(instance.ministry)-\(instance.application)-\(serial)"))
                mutations.append(
                    .putInstance(
                        instance.replacement(
                            serial: serial, reason: "replaces \(instance.id), lost with node \(node.name)", at: stamp)))
            }
        }
        let moves = !mutations.isEmpty
        return Outcome(
            changeset: Changeset(
                basedOn: state.resourceVersion, resourceVersion: moves ? state.resourceVersion + 1 : nil,
                instanceSerial: serial == state.instanceSerial ? nil : serial, mutations: mutations, events: events),
            value: report)
    }
}
