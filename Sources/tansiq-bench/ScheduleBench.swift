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
            smallest k such that the k largest nodes hold it; the larger of the two). seconds counts the
            scheduler's own work (building it from the snapshot and placing), not the making of requests. It also
            prints the µs per placement of each tenth of the run, to show whether placements cost more as the
            nodes fill.

            A scenario file (--scenario) is JSON: {"nodes": [{"name", "cpuMillis", "memoryBytes", "storageBytes",
            "maxInstances", "labels"}], "ministries": [{"name", "quota": {"cpuMillis", "memoryBytes",
            "storageBytes", "instances"}, "cohort", "borrowingLimit", "lendingLimit", "weight"}], "workloads":
            [{"name", "ministry", "replicas", "cpuMillis", "memoryBytes", "storageBytes", "priority", "spread",
            "nodeSelector"}]}. Only names are required: an omitted resource is none, an omitted maxInstances or
            quota dimension unlimited, replicas 1, priority standard; ministries may be left out (a ministry not
            listed has no quota at all). --write FILE writes a generated scenario in this form.

            --contention nodes=N runs the fair-sharing scenario instead: a lender whose idle quota (half the
            cluster) is the cohort's pool, and eight borrowers of weights 1, 1, 2, 2, 3, 3, 4, 4 arriving
            lightest first, each asking for its own quota plus twice the pool in 4-cpu instances; then rounds
            over everything pending (preempted instances replaced) until a round changes nothing. It prints each
            borrower's borrowed cpu over its weight, their spread ((highest - lowest) / highest; target 5 %),
            and placements/s counting every placement, preemption on. Its last line is one JSON object too.
            """
    )

    @Option(
        help: """
            Synthetic data-centre: mix=datacentre|trace-like,nodes=N,instances=M,seed=S (defaults: datacentre, \
            1,000 nodes, 10,000 instances; trace-like: 26,000 nodes, 3,000,000 instances; seed 1).
            """)
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
        // Each workload's requests are made when it comes (a trace of millions would otherwise be
        // held twice), checked first so that a bad priority fails before the clock starts.
        for index in input.workloads.indices { _ = try input.priority(index) }
        var sizes: [String: Resources] = [:]
        for index in input.workloads.indices {
            let w = input.workloads[index]
            sizes[w.ministry + "/" + w.name] = input.resources(index)
        }
        // The clock runs while the scheduler is built and while it places, not while requests are made.
        let clock = ContinuousClock()
        var scheduler: Scheduler!
        var elapsed = clock.measure {
            scheduler = Scheduler(
                snapshot: Snapshot(nodes: nodes, ministries: input.quotaTerms),
                options: SchedulerOptions(scorer: Scorer(rawValue: scorer)!, ordering: .asGiven))
        }
        var placed = 0
        var unschedulable = 0
        var preempted = 0
        var demand = Resources.zero
        var sequence: Int64 = 0
        let total = input.workloads.reduce(0) { $0 + ($1.replicas ?? 1) }
        var tenths: [(placements: Int, elapsed: Duration)] = [(0, .zero)]
        for index in input.workloads.indices {
            if placed + unschedulable >= total * tenths.count / 10 { tenths.append((placed, elapsed)) }
            let batch = try input.requests(index, sequenceStart: sequence)
            sequence += Int64(batch.count)
            var plan: Plan!
            elapsed += clock.measure { plan = scheduler.schedule(batch) }
            placed += plan.assignments.count
            unschedulable += plan.unplaced.count
            preempted += plan.preemptions.count
            demand += input.resources(index).times(Int64(plan.assignments.count))
            for preemption in plan.preemptions {
                demand -= sizes[String(preemption.victim[..<preemption.victim.lastIndex(of: "/")!])]!
            }
        }
        tenths.append((placed, elapsed))
        let seconds = elapsed.inSeconds
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
        print(
            "µs per placement by tenth of the run: "
                + zip(tenths, tenths.dropFirst()).map { before, now in
                    let count = now.placements - before.placements
                    return count > 0
                        ? String(format: "%.1f", (now.elapsed - before.elapsed).inSeconds / Double(count) * 1e6) : "-"
                }.joined(separator: " "))
        print("peak RSS \(result.peakRSSBytes / (1 << 20)) MiB")
        try printJSONLine(result)
    }

    func load() throws -> Scenario {
        if let scenario {
            let data = try Data(contentsOf: URL(fileURLWithPath: scenario))
            return try JSONDecoder().decode(Scenario.self, from: data)
        }
        var values: [String: UInt64] = [:]
        var mix = Generator.Mix.datacentre
        for part in generate!.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2, kv[0] == "mix" {
                guard let chosen = Generator.Mix(rawValue: kv[1]) else {
                    throw ValidationError("--generate: mix \"\(kv[1])\" is not datacentre or trace-like")
                }
                mix = chosen
                continue
            }
            guard kv.count == 2, let value = UInt64(kv[1]), ["nodes", "instances", "seed"].contains(kv[0]) else {
                throw ValidationError(
                    "--generate takes mix=datacentre|trace-like,nodes=N,instances=M,seed=S; \"\(part)\" is not one of them"
                )
            }
            values[kv[0]] = value
        }
        return Generator(
            nodes: Int(values["nodes"] ?? UInt64(mix.defaultNodes)),
            instances: Int(values["instances"] ?? UInt64(mix.defaultInstances)), seed: values["seed"] ?? 1, mix: mix
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
