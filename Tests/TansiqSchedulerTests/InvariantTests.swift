import TansiqModel
import Testing

@testable import TansiqScheduler

/// Randomized scenarios, each from a printed seed, checked against the invariants of DESIGN.md.
@Suite("Invariants over thousands of seeded scenarios")
struct InvariantTests {
    /// A small random cluster, some instances already placed by an earlier plan, and a pending set.
    static func scenario(seed: UInt64) -> (Snapshot, [InstanceRequest]) {
        var rng = SeededRandom(seed: seed)
        let nodes = (0..<(1 + rng.below(8))).map { i in
            node(
                "n\(i)", cpu: Int64(1000 * (1 + rng.below(8))), memory: Int64(1 + rng.below(8)) * gi,
                slots: Int64(2 + rng.below(10)), labels: ["zone": "z\(rng.below(3))"], cordoned: rng.below(10) == 0)
        }
        let cohort: String? = rng.below(4) == 0 ? nil : "c"
        let ministries = (0..<(1 + rng.below(4))).map { m in
            quota(
                "m\(m)", cpu: Int64(500 * rng.below(12)), memory: Int64(rng.below(12)) * gi / 2,
                cohort: m == 0 ? cohort : (rng.below(3) == 0 ? nil : "c"),
                borrowing: rng.below(3) == 0 ? ResourceLimits(cpuMillis: Int64(500 * rng.below(6))) : nil,
                lending: rng.below(3) == 0 ? ResourceLimits(cpuMillis: Int64(500 * rng.below(6))) : nil,
                weight: Double(1 + rng.below(3)))
        }
        var sequence: Int64 = 0
        func make(_ count: Int) -> [InstanceRequest] {
            (0..<count).map { _ in
                sequence += 1
                let app = rng.below(5)
                let priority = Priority.allCases[app % 4]
                return request(
                    "i\(sequence)", ministry: "m\(rng.below(ministries.count))", app: "a\(app)",
                    cpu: Int64(250 * (1 + app)), memory: Int64(1 + app % 3) * gi / 2, priority: priority,
                    constraints: Constraints(
                        spread: app == 1 ? "zone" : nil, maxPerNode: app == 2 ? 1 : nil,
                        fixedPorts: app == 3 ? [8080] : []),
                    sequence: sequence)
            }
        }
        let first = Snapshot(nodes: nodes, ministries: ministries)
        let earlier = make(rng.below(20))
        let scheduler = Scheduler(snapshot: first)
        _ = scheduler.schedule(earlier)
        let placed = scheduler.state.instances.values.map {
            PlacedInstance(request: $0.request, node: scheduler.state.nodes[$0.node].name, guaranteed: $0.guaranteed)
        }.sorted { $0.request.sequence < $1.request.sequence }
        return (Snapshot(nodes: nodes, ministries: ministries, placed: placed), make(rng.below(25)))
    }

    @Test("no node or quota is exceeded, victims are allowed and necessary, plans are deterministic")
    func invariants() {
        for seed in UInt64(1)...3000 {
            let (snapshot, pending) = Self.scenario(seed: seed)
            let plan = Scheduler.plan(snapshot, pending)
            #expect(plan == Scheduler.plan(snapshot, pending), "seed \(seed): plans differ")
            check(snapshot, pending, plan, seed: seed)
        }
    }

    func check(_ snapshot: Snapshot, _ pending: [InstanceRequest], _ plan: Plan, seed: UInt64) {
        var live = Dictionary(uniqueKeysWithValues: snapshot.placed.map { ($0.request.id, $0) })
        let byID = Dictionary(uniqueKeysWithValues: pending.map { ($0.id, $0) })
        let terms = Dictionary(uniqueKeysWithValues: snapshot.ministries.map { ($0.ministry, $0) })
        for preemption in plan.preemptions {
            guard let victim = live.removeValue(forKey: preemption.victim) else {
                Issue.record("seed \(seed): unknown victim in \(preemption)")
                continue
            }
            #expect(victim.request.priority != .critical, "seed \(seed): critical victim")
            guard let preemptorID = preemption.preemptor else {
                #expect(!victim.guaranteed, "seed \(seed): a guaranteed instance given back for a quota change")
                continue
            }
            guard let preemptor = byID[preemptorID] else {
                Issue.record("seed \(seed): unknown victim or preemptor in \(preemption)")
                continue
            }
            #expect(victim.request.priority != .critical, "seed \(seed): critical victim")
            if preemption.reason.hasPrefix("reclaimed") {
                #expect(!victim.guaranteed, "seed \(seed): reclaim evicted a guaranteed instance")
            } else if victim.request.ministry != preemptor.ministry {
                #expect(!victim.guaranteed, "seed \(seed): another ministry's guaranteed instance evicted")
            } else {
                #expect(victim.request.priority < preemptor.priority, "seed \(seed): same ministry, not lower priority")
            }
        }
        for assignment in plan.assignments {
            live[assignment.instance] = PlacedInstance(
                request: byID[assignment.instance]!, node: assignment.node, guaranteed: assignment.guaranteed)
        }
        // No node over capacity in any dimension, no fixed port twice, maxPerNode held.
        for node in snapshot.nodes {
            let here = live.values.filter { $0.node == node.name }
            let used = here.reduce(Resources.zero) { $0 + $1.request.resources }
            #expect(used.fits(in: node.allocatable), "seed \(seed): node \(node.name) over capacity")
            let ports = here.flatMap(\.request.constraints.fixedPorts)
            #expect(ports.count == Set(ports).count, "seed \(seed): port twice on \(node.name)")
            let perApp = Dictionary(
                grouping: here.filter { $0.request.constraints.maxPerNode != nil }, by: \.request.applicationKey)
            for (_, instances) in perApp {
                #expect(instances.count <= instances[0].request.constraints.maxPerNode!, "seed \(seed): maxPerNode")
            }
        }
        // Guaranteed within quota; borrowed within the ceiling; the cohort lends at least what is borrowed.
        var ledger = QuotaLedger(snapshot.ministries)
        for instance in live.values {
            ledger.add(instance.request.ministry, instance.request.resources, guaranteed: instance.guaranteed)
            #expect(instance.guaranteed || instance.request.priority != .critical, "seed \(seed): critical borrowed")
        }
        for (name, t) in terms {
            #expect(
                ledger.guaranteed[name, default: .zero].fits(in: t.quota), "seed \(seed): \(name) guaranteed over quota"
            )
            #expect(
                ledger.borrowed[name, default: .zero].fits(in: ledger.borrowingCeiling(name)),
                "seed \(seed): \(name) borrowed over its limit")
        }
        for cohort in ledger.cohorts.keys {
            #expect(!ledger.overLent(cohort), "seed \(seed): cohort \(cohort) borrows more than it lends")
        }
    }

    @Test("every victim is necessary: without any one of them the preemptor does not fit")
    func victimsNecessary() {
        var checked = 0
        for seed in UInt64(1)...3000 {
            let (snapshot, pending) = Self.scenario(seed: seed)
            let scheduler = Scheduler(snapshot: snapshot)
            for request in pending {
                let preemptor = Preemptor(state: scheduler.state, request: request)
                guard scheduler.findNode(request) == nil, let (node, victims) = preemptor.find() else { continue }
                checked += 1
                #expect(preemptor.works(node, victims), "seed \(seed)")
                for index in victims.indices {
                    var fewer = victims
                    fewer.remove(at: index)
                    #expect(
                        !preemptor.works(node, fewer), "seed \(seed): victim \(victims[index].request.id) unnecessary")
                }
            }
        }
        #expect(checked > 50)
    }

    @Test("spread skew stays within 1 whenever every instance fits")
    func spreadSkew() {
        for seed in UInt64(1)...500 {
            var rng = SeededRandom(seed: seed)
            let zones = 2 + rng.below(3)
            let nodes = (0..<(zones * (1 + rng.below(3)))).map {
                node("n\($0)", cpu: 64000, memory: 256 * gi, labels: ["zone": "z\($0 % zones)"])
            }
            let replicas = 1 + rng.below(30)
            let pending = (0..<replicas).map {
                request("i\($0)", cpu: Int64(100 * (1 + rng.below(10))), constraints: Constraints(spread: "zone"))
            }
            let plan = Scheduler.plan(Snapshot(nodes: nodes, ministries: []), pending)
            #expect(plan.assignments.count == replicas, "seed \(seed)")
            let zoneOf = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0.labels["zone"]!) })
            var counts = Dictionary(uniqueKeysWithValues: (0..<zones).map { ("z\($0)", 0) })
            for assignment in plan.assignments { counts[zoneOf[assignment.node]!]! += 1 }
            #expect(counts.values.max()! - counts.values.min()! <= 1, "seed \(seed): \(counts)")
        }
    }

    @Test("a lender placing within its quota always gets its capacity back")
    func lenderGetsCapacityBack() {
        for seed in UInt64(1)...500 {
            var rng = SeededRandom(seed: seed)
            let lenderQuota = Int64(1000 * (1 + rng.below(8)))
            let nodes = [node("a", cpu: lenderQuota, memory: 64 * gi, slots: 100)]
            let ministries = [quota("lender", cpu: lenderQuota, cohort: "c"), quota("borrower", cpu: 0, cohort: "c")]
            let borrower = Scheduler(snapshot: Snapshot(nodes: nodes, ministries: ministries))
            _ = borrower.schedule(
                (0..<Int(lenderQuota / 250)).map {
                    request("b\($0)", ministry: "borrower", cpu: 250, memory: 0, priority: .high, sequence: Int64($0))
                })
            let placed = borrower.state.instances.values.map {
                PlacedInstance(request: $0.request, node: "a", guaranteed: $0.guaranteed)
            }
            let wanted = 1 + rng.below(Int(lenderQuota / 500))
            let plan = Scheduler.plan(
                Snapshot(nodes: nodes, ministries: ministries, placed: placed),
                (0..<wanted).map {
                    request(
                        "l\($0)", ministry: "lender", cpu: 500, memory: 0, priority: .batch, sequence: 1000 + Int64($0))
                })
            #expect(plan.assignments.count == wanted, "seed \(seed)")
            #expect(plan.assignments.allSatisfy { $0.guaranteed }, "seed \(seed)")
        }
    }
}
