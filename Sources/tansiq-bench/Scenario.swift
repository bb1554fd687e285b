import Foundation
import TansiqModel
import TansiqScheduler

/// A scheduling scenario, as `--scenario FILE` reads it (so real traces can be replayed).
struct Scenario: Codable {
    struct Node: Codable {
        var name: String
        var cpuMillis: Int64?
        var memoryBytes: Int64?
        var storageBytes: Int64?
        var maxInstances: Int64?
        var labels: [String: String]?
    }
    struct Vector: Codable {
        var cpuMillis: Int64?
        var memoryBytes: Int64?
        var storageBytes: Int64?
        var instances: Int64?
    }
    struct Ministry: Codable {
        var name: String
        var quota: Vector
        var cohort: String?
        var borrowingLimit: Vector?
        var lendingLimit: Vector?
        var weight: Double?
    }
    struct Workload: Codable {
        var name: String
        var ministry: String
        var replicas: Int?
        var cpuMillis: Int64?
        var memoryBytes: Int64?
        var storageBytes: Int64?
        var priority: String?
        var spread: String?
        var nodeSelector: [String: String]?
    }

    var nodes: [Node]
    /// Optional: a ministry not listed has no quota at all.
    var ministries: [Ministry]?
    var workloads: [Workload]

    /// Nodes as the scheduler sees them: an omitted resource is none, omitted slots unlimited.
    var schedulerNodes: [SchedulerNode] {
        nodes.map { n in
            SchedulerNode(
                name: n.name,
                allocatable: Resources(
                    cpuMillis: n.cpuMillis ?? 0, memoryBytes: n.memoryBytes ?? 0, storageBytes: n.storageBytes ?? 0,
                    instances: n.maxInstances ?? Resources.unlimited.instances),
                labels: n.labels ?? [:])
        }
    }

    /// Quota terms; a quota dimension left out is unlimited (the manifest requires all four).
    var quotaTerms: [QuotaTerms] {
        func limits(_ v: Vector?) -> ResourceLimits? {
            v.map {
                ResourceLimits(
                    cpuMillis: $0.cpuMillis, memoryBytes: $0.memoryBytes, storageBytes: $0.storageBytes,
                    instances: $0.instances)
            }
        }
        return (ministries ?? []).map { m in
            QuotaTerms(
                ministry: m.name, quota: limits(m.quota)!.filled(with: .unlimited), cohort: m.cohort,
                borrowingLimit: limits(m.borrowingLimit), lendingLimit: limits(m.lendingLimit), weight: m.weight ?? 1)
        }
    }

    /// One instance of a workload's request.
    func resources(_ index: Int) -> Resources {
        let w = workloads[index]
        return Resources(
            cpuMillis: w.cpuMillis ?? 0, memoryBytes: w.memoryBytes ?? 0, storageBytes: w.storageBytes ?? 0,
            instances: 1)
    }

    /// A workload's priority; an unknown one is refused with the workload's position.
    func priority(_ index: Int) throws -> Priority {
        let w = workloads[index]
        guard let priority = Priority(rawValue: w.priority ?? "standard") else {
            throw ValidationErrorText(
                "workloads[\(index)].priority: \"\(w.priority!)\" is not one of critical, high, standard, batch")
        }
        return priority
    }

    /// The instances of one workload.
    func requests(_ index: Int, sequenceStart: Int64) throws -> [InstanceRequest] {
        let w = workloads[index]
        let priority = try priority(index)
        let resources = resources(index)
        let constraints = Constraints(nodeSelector: w.nodeSelector ?? [:], spread: w.spread)
        return (0..<(w.replicas ?? 1)).map { r in
            InstanceRequest(
                id: "\(w.ministry)/\(w.name)/\(r)", ministry: w.ministry, application: w.name, priority: priority,
                resources: resources, constraints: constraints, sequence: sequenceStart + Int64(r))
        }
    }
}

struct ValidationErrorText: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
