import ArgumentParser
import Foundation
import TansiqModel
import TansiqScheduler

/// `tansiq-bench schedule`: places a scenario's workloads in file order, one thread.
struct ScheduleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Place a synthetic or replayed scenario; print placements/s, packing and memory.",
        discussion: """
            The last line is one JSON object: placements, unschedulable, seconds, placementsPerSecond,
            nodesUsed, lowerBound, packingRatio (nodesUsed / lowerBound), peakRSSBytes. lowerBound is the
            least number of nodes whose capacity could hold the placed demand (per cpu and memory, the
            smallest k such that the k largest nodes hold it; the larger of the two).

            --contention nodes=N runs the fair-sharing scenario instead: a lender whose idle quota (half the
            cluster) is the cohort's pool, and eight borrowers of weights 1, 1, 2, 2, 3, 3, 4, 4 arriving
            lightest first, each asking for its own quota plus twice the pool in 4-cpu instances; then rounds
            over everything pending (preempted instances replaced) until a round changes nothing. It prints each
            borrower's borrowed cpu over its weight, their spread ((highest - lowest) / highest; target 5 %),
            and placements/s counting every placement, preemption on. Its last line is one JSON object too.
            """
    )

    @Option(help: "Synthetic data-centre: nodes=N,instances=M,seed=S.")
    var generate: String?

    @Option(help: "A scenario JSON file (nodes, ministries, workloads).")
    var scenario: String?

    @Option(help: "The fair-sharing contention scenario: nodes=N.")
    var contention: String?

    @Option(help: "binpack or spread.")
    var scorer: String = "binpack"

    @Option(help: "Write the generated scenario to this file and exit.")
    var write: String?

    func validate() throws {
        if [generate, scenario, contention].compactMap({ $0 }).count != 1 {
            throw ValidationError("give exactly one of --generate, --scenario or --contention")
        }
        if let contention, Self.contentionNodes(contention) == nil {
            throw ValidationError("--contention takes nodes=N with N ≥ 1; \"\(contention)\" is not that")
        }
        if Scorer(rawValue: scorer) == nil { throw ValidationError("--scorer must be binpack or spread") }
    }

    static func contentionNodes(_ text: String) -> Int? {
        let kv = text.split(separator: "=", maxSplits: 1)
        guard kv.count == 2, kv[0] == "nodes", let nodes = Int(kv[1]), nodes >= 1 else { return nil }
        return nodes
    }

    func run() throws {
        if let contention, let nodes = Self.contentionNodes(contention) {
            let report = ContentionBench(nodes: nodes).run()
            print(
                "contention: \(report.nodes) nodes, pool \(Int(report.poolCores)) cpu, \(report.requests) requests, "
                    + "\(report.rounds) rounds")
            for name in report.borrowedPerWeight.keys.sorted() {
                print("  \(name): borrowed cpu / weight = \(String(format: "%.1f", report.borrowedPerWeight[name]!))")
            }
            print("spread \(String(format: "%.2f", report.spread * 100)) % (target ≤ 5 %)")
            print(
                "placed \(report.placements), preempted \(report.preemptions) in \(String(format: "%.3f", report.seconds)) s: "
                    + "\(Int(report.placementsPerSecond)) placements/s")
            try printJSONLine(report)
            return
        }
        let input = try load()
        if let write {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(input).write(to: URL(fileURLWithPath: write))
            return
        }
        let nodes = input.schedulerNodes
        var batches: [[InstanceRequest]] = []
        var sequence: Int64 = 0
        for index in input.workloads.indices {
            let requests = try input.requests(index, sequenceStart: sequence)
            sequence += Int64(requests.count)
            batches.append(requests)
        }
        let clock = ContinuousClock()
        let start = clock.now
        let scheduler = Scheduler(
            snapshot: Snapshot(nodes: nodes, ministries: input.quotaTerms),
            options: SchedulerOptions(scorer: Scorer(rawValue: scorer)!, ordering: .asGiven))
        var placed = 0
        var unschedulable = 0
        var preempted = 0
        var demand = Resources.zero
        var sizes: [String: Resources] = [:]
        for batch in batches {
            let plan = scheduler.schedule(batch)
            placed += plan.assignments.count
            unschedulable += plan.unplaced.count
            preempted += plan.preemptions.count
            for request in batch { sizes[request.id] = request.resources }
            for assignment in plan.assignments { demand += sizes[assignment.instance]! }
            for preemption in plan.preemptions { demand -= sizes[preemption.victim]! }
        }
        let seconds = (clock.now - start).inSeconds
        let lowerBound = max(
            Self.lowerBound(nodes.map(\.allocatable.cpuMillis), demand.cpuMillis),
            Self.lowerBound(nodes.map(\.allocatable.memoryBytes), demand.memoryBytes))
        let used = scheduler.nodesUsed
        let result = BenchResult(
            placements: placed, unschedulable: unschedulable, seconds: seconds,
            placementsPerSecond: Double(placed) / seconds, nodesUsed: used, lowerBound: lowerBound,
            packingRatio: lowerBound > 0 ? Double(used) / Double(lowerBound) : 0, peakRSSBytes: peakRSS())
        print("nodes: \(nodes.count), workloads: \(input.workloads.count), instances: \(sequence), scorer: \(scorer)")
        print(
            "placed \(placed), unschedulable \(unschedulable), preempted \(preempted) in \(String(format: "%.3f", seconds)) s"
        )
        print(
            "\(Int(result.placementsPerSecond)) placements/s, \(String(format: "%.2f", seconds / Double(max(placed, 1)) * 1e6)) µs each"
        )
        print(
            "nodes used \(used), lower bound \(lowerBound), packing ratio \(String(format: "%.3f", result.packingRatio))"
        )
        print("peak RSS \(result.peakRSSBytes / (1 << 20)) MiB")
        try printJSONLine(result)
    }

    func load() throws -> Scenario {
        if let scenario {
            let data = try Data(contentsOf: URL(fileURLWithPath: scenario))
            return try JSONDecoder().decode(Scenario.self, from: data)
        }
        var values: [String: UInt64] = [:]
        for part in generate!.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let value = UInt64(kv[1]), ["nodes", "instances", "seed"].contains(String(kv[0]))
            else {
                throw ValidationError("--generate takes nodes=N,instances=M,seed=S; \"\(part)\" is not one of them")
            }
            values[String(kv[0])] = value
        }
        return Generator(
            nodes: Int(values["nodes"] ?? 1000), instances: Int(values["instances"] ?? 10_000),
            seed: values["seed"] ?? 1
        ).scenario()
    }

    /// The smallest k such that the k largest capacities sum to at least the demand.
    static func lowerBound(_ capacities: [Int64], _ demand: Int64) -> Int {
        guard demand > 0 else { return 0 }
        var sum: Int64 = 0
        for (k, capacity) in capacities.sorted(by: >).enumerated() {
            sum += capacity
            if sum >= demand { return k + 1 }
        }
        return capacities.count
    }

    func peakRSS() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss) * 1024
    }
}

struct BenchResult: Codable {
    var placements: Int
    var unschedulable: Int
    var seconds: Double
    var placementsPerSecond: Double
    var nodesUsed: Int
    var lowerBound: Int
    var packingRatio: Double
    var peakRSSBytes: Int
}
