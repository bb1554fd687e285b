import TansiqModel

@testable import TansiqScheduler

let gi: Int64 = 1 << 30

func node(
    _ name: String, cpu: Int64 = 4000, memory: Int64 = 8 * gi, slots: Int64 = 100, labels: [String: String] = [:],
    taints: [Taint] = [], ready: Bool = true, cordoned: Bool = false
) -> SchedulerNode {
    SchedulerNode(
        name: name,
        allocatable: Resources(cpuMillis: cpu, memoryBytes: memory, storageBytes: 100 * gi, instances: slots),
        labels: labels, taints: taints, ready: ready, cordoned: cordoned)
}

func request(
    _ id: String, ministry: String = "health", app: String = "app", cpu: Int64 = 1000, memory: Int64 = gi,
    priority: Priority = .standard, constraints: Constraints = Constraints(), sequence: Int64 = 0
) -> InstanceRequest {
    InstanceRequest(
        id: id, ministry: ministry, application: app, priority: priority,
        resources: Resources(cpuMillis: cpu, memoryBytes: memory, storageBytes: 0, instances: 1),
        constraints: constraints, sequence: sequence)
}

func quota(
    _ ministry: String, cpu: Int64, memory: Int64 = 1000 * gi, cohort: String? = nil,
    borrowing: ResourceLimits? = nil, lending: ResourceLimits? = nil, weight: Double = 1,
    priorities: Set<Priority> = Set(Priority.allCases)
) -> QuotaTerms {
    QuotaTerms(
        ministry: ministry,
        quota: Resources(cpuMillis: cpu, memoryBytes: memory, storageBytes: 1000 * gi, instances: 1000),
        cohort: cohort, borrowingLimit: borrowing, lendingLimit: lending, weight: weight, priorities: priorities)
}

extension Plan {
    func node(of instance: String) -> String? { assignments.first { $0.instance == instance }?.node }
    func reason(of instance: String) -> String? { unplaced.first { $0.instance == instance }?.reason }
    var victims: [String] { preemptions.map(\.victim) }
}
