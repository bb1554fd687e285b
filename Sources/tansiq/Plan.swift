import ArgumentParser
import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel
import TansiqScheduler

/// `tansiq plan -f FILE|DIR`: what applying would place where, what would wait and why, what
/// would be preempted — the scheduler run here, on the controller's snapshot.
struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "What-if: where the manifests' applications would run, what would stay pending and why, what would be preempted.",
        discussion: """
            Fetches the cluster's snapshot (nodes, quotas, placed instances) and runs the scheduler locally with
            the manifests' ministries (their nominal quotas) and applications (all their replicas, replacing
            what the cluster runs of them). Changes nothing.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var files: ManifestFiles

    func run() async throws {
        try await connection.withClient { client in
            let manifests = try Apply.load(files.filename, cluster: try await Apply.facts(client))
            let cluster = try await client.snapshot()
            let (snapshot, pending) = Self.whatIf(cluster, manifests.objects.map(\.object))
            let plan = Scheduler.plan(snapshot, pending)
            for line in Self.report(plan, snapshot: snapshot, pending: pending) { Output.line(line) }
        }
    }

    static func constraints(_ placement: Placement, fixedPorts: [Int]) -> Constraints {
        Constraints(
            datacentres: placement.datacentres, nodeSelector: placement.nodeSelector,
            tolerations: placement.tolerations,
            spread: placement.spread, maxPerNode: placement.maxPerNode, fixedPorts: fixedPorts)
    }

    /// The snapshot with the manifests applied, and their applications' replicas as pending.
    static func whatIf(_ cluster: ClusterSnapshot, _ objects: [ManifestObject]) -> (Snapshot, [InstanceRequest]) {
        var terms = Dictionary(
            cluster.ministries.map {
                (
                    $0.ministry,
                    QuotaTerms(
                        ministry: $0.ministry, quota: $0.quota, cohort: $0.cohort, borrowingLimit: $0.borrowingLimit,
                        lendingLimit: $0.lendingLimit, weight: $0.weight, priorities: Set($0.priorities))
                )
            }, uniquingKeysWith: { a, _ in a })
        var apps: [Application] = []
        for object in objects {
            switch object {
            case .ministry(let m):
                terms[m.metadata.name] = QuotaTerms(
                    ministry: m.metadata.name, quota: m.spec.quota, cohort: m.spec.cohort,
                    borrowingLimit: m.spec.borrowingLimit, lendingLimit: m.spec.lendingLimit, weight: m.spec.weight,
                    priorities: Set(m.spec.priorities))
            case .application(let a): apps.append(a)
            case .capacityRequest: break
            }
        }
        let replaced = Set(apps.map(\.key))
        var sequence: Int64 = 0
        let placed = cluster.placed.filter { !replaced.contains("\($0.ministry)/\($0.application)") }.map { instance in
            sequence += 1
            return PlacedInstance(
                request: InstanceRequest(
                    id: instance.id, ministry: instance.ministry, application: instance.application,
                    priority: instance.priority, resources: instance.resources.vector,
                    constraints: constraints(instance.placement, fixedPorts: instance.fixedPorts), sequence: sequence),
                node: instance.node, guaranteed: instance.guaranteed)
        }
        let nodes = cluster.nodes.map {
            SchedulerNode(
                name: $0.name, allocatable: $0.allocatable, labels: $0.labels, taints: $0.taints,
                ready: $0.phase == .ready,
                cordoned: $0.cordoned)
        }
        var pending: [InstanceRequest] = []
        for app in apps {
            let ministry = app.metadata.ministry ?? ""
            for replica in 1...max(1, app.spec.replicas) where app.spec.replicas > 0 {
                sequence += 1
                pending.append(
                    InstanceRequest(
                        id: "\(ministry)-\(app.metadata.name)-new-\(replica)", ministry: ministry,
                        application: app.metadata.name, priority: app.spec.priority,
                        resources: app.spec.resources.vector,
                        constraints: constraints(
                            app.spec.placement, fixedPorts: app.spec.ports.map(\.port).filter { $0 > 0 }),
                        sequence: sequence))
            }
        }
        return (Snapshot(nodes: nodes, ministries: Array(terms.values), placed: placed), pending)
    }

    /// Lines for people: placements, waits, preemptions, then each ministry's quota use after.
    static func report(_ plan: TansiqScheduler.Plan, snapshot: Snapshot, pending: [InstanceRequest]) -> [String] {
        var lines: [String] = []
        for assignment in plan.assignments {
            lines.append(
                "would place \(assignment.instance) on \(assignment.node) (\(assignment.guaranteed ? "guaranteed" : "borrowed"))"
            )
        }
        for unplaced in plan.unplaced { lines.append("would stay pending: \(unplaced.instance): \(unplaced.reason)") }
        for preemption in plan.preemptions {
            lines.append(
                "would preempt \(preemption.victim)" + (preemption.preemptor.map { " for \($0)" } ?? "")
                    + ": \(preemption.reason)")
        }
        var ledger = QuotaLedger(snapshot.ministries)
        let victims = Set(plan.preemptions.map(\.victim))
        for placed in snapshot.placed where !victims.contains(placed.request.id) {
            ledger.add(placed.request.ministry, placed.request.resources, guaranteed: placed.guaranteed)
        }
        let requests = Dictionary(pending.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for assignment in plan.assignments {
            guard let request = requests[assignment.instance] else { continue }
            ledger.add(request.ministry, request.resources, guaranteed: assignment.guaranteed)
        }
        for ministry in Set(pending.map(\.ministry)).sorted() {
            let quota = ledger.terms(of: ministry).quota
            let guaranteed = ledger.guaranteed[ministry] ?? .zero
            let borrowed = ledger.borrowed[ministry] ?? .zero
            lines.append(
                "quota of \(ministry) after: cpu \(Quantity.formatCPU(guaranteed.cpuMillis)) of "
                    + "\(Quantity.formatCPU(quota.cpuMillis)) guaranteed, \(Quantity.formatCPU(borrowed.cpuMillis)) borrowed; "
                    + "memory \(Quantity.formatBytes(guaranteed.memoryBytes)) of \(Quantity.formatBytes(quota.memoryBytes))"
            )
        }
        return lines
    }
}
