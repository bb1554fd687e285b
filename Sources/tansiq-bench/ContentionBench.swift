import Foundation
import TansiqModel
import TansiqScheduler

/// The contention scenario of `tansiq-bench schedule --contention`: a cohort of a lender, whose
/// idle quota is the pool, and eight borrowers of weights 1–4, each asking for its own quota
/// plus twice the pool. They arrive one after another, the lightest first (the worst order for
/// fair sharing: the first takes the whole pool), each arrival a batch; then, as the placement
/// loop does, every round plans all that is pending (the unplaced and the preempted instances'
/// replacements) until a round changes nothing.
struct ContentionBench {
    var nodes: Int
    /// Weights of the eight borrowers.
    static let weights: [Double] = [1, 1, 2, 2, 3, 3, 4, 4]
    static let instance = Resources(cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 1 << 30, instances: 1)

    struct Report: Codable {
        var nodes: Int
        var requests: Int
        var placements: Int
        var preemptions: Int
        var rounds: Int
        var seconds: Double
        var placementsPerSecond: Double
        /// Per borrower: borrowed cpu over weight, in cores.
        var borrowedPerWeight: [String: Double]
        /// (highest − lowest) / highest of `borrowedPerWeight`.
        var spread: Double
        var poolCores: Double
    }

    func run() -> Report {
        let node = Resources(cpuMillis: 16_000, memoryBytes: 64 << 30, storageBytes: 500 << 30, instances: 110)
        let cluster = SchedulerNode(name: "", allocatable: node)
        let schedulerNodes = (0..<nodes).map { index in
            var each = cluster
            each.name = "node-\(index)"
            each.labels = ["zone": "z\(index % 3)"]
            return each
        }
        // Half the cluster is the lender's idle quota; each borrower has 1 % of it of its own.
        let total = node.times(Int64(nodes))
        func part(_ numerator: Int64, _ denominator: Int64) -> Resources {
            Resources(
                cpuMillis: total.cpuMillis * numerator / denominator,
                memoryBytes: total.memoryBytes * numerator / denominator,
                storageBytes: total.storageBytes * numerator / denominator,
                instances: total.instances * numerator / denominator)
        }
        let pool = part(1, 2)
        let own = part(1, 100)
        var terms = [QuotaTerms(ministry: "lender", quota: pool, cohort: "shared")]
        let borrowers = Self.weights.indices.map { "borrower-\($0 + 1)" }
        for (index, name) in borrowers.enumerated() {
            terms.append(QuotaTerms(ministry: name, quota: own, cohort: "shared", weight: Self.weights[index]))
        }
        let perBorrower = Int((own.cpuMillis + 2 * pool.cpuMillis) / Self.instance.cpuMillis)
        var sequence: Int64 = 0
        var ministryOf: [String: String] = [:]
        func request(_ ministry: String) -> InstanceRequest {
            sequence += 1
            let id = "\(ministry)-\(sequence)"
            ministryOf[id] = ministry
            return InstanceRequest(
                id: id, ministry: ministry, application: "work", resources: Self.instance, sequence: sequence)
        }
        let arrivals = borrowers.map { name in (0..<perBorrower).map { _ in request(name) } }

        let clock = ContinuousClock()
        let start = clock.now
        let scheduler = Scheduler(snapshot: Snapshot(nodes: schedulerNodes, ministries: terms))
        var placements = 0
        var preemptions = 0
        var rounds = 0
        var pending: [InstanceRequest] = []
        func round(_ batch: [InstanceRequest]) -> Bool {
            rounds += 1
            let plan = scheduler.schedule(batch)
            placements += plan.assignments.count
            preemptions += plan.preemptions.count
            let unplaced = Set(plan.unplaced.map(\.instance))
            pending = batch.filter { unplaced.contains($0.id) }
            // A preempted instance is replaced by a new one of its application, as the controller does.
            for preemption in plan.preemptions {
                guard let ministry = ministryOf[preemption.victim] else { continue }
                pending.append(request(ministry))
            }
            return !plan.assignments.isEmpty || !plan.preemptions.isEmpty
        }
        for arrival in arrivals { _ = round(pending + arrival) }
        while rounds < 60, round(pending) {}
        let seconds = (clock.now - start).inSeconds

        let ledger = scheduler.ledger
        var perWeight: [String: Double] = [:]
        for (index, name) in borrowers.enumerated() {
            perWeight[name] = Double(ledger.borrowed[name]?.cpuMillis ?? 0) / 1000 / Self.weights[index]
        }
        let highest = perWeight.values.max() ?? 0
        let lowest = perWeight.values.min() ?? 0
        return Report(
            nodes: nodes, requests: Int(sequence), placements: placements, preemptions: preemptions, rounds: rounds,
            seconds: seconds, placementsPerSecond: Double(placements) / seconds, borrowedPerWeight: perWeight,
            spread: highest > 0 ? (highest - lowest) / highest : 1, poolCores: Double(pool.cpuMillis) / 1000)
    }
}
