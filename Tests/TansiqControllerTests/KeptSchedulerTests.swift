import Foundation
import TansiqModel
import TansiqStore
import Testing

@testable import TansiqController
@testable import TansiqScheduler

@Suite("The placement loop's kept scheduler holds what a scheduler built from a snapshot would")
struct KeptSchedulerTests {
    static let now = PlacementTests.now
    static let admin = Caller(subject: "admin", role: .operator)
    static let ready: @Sendable (Node) -> Bool = { _ in true }

    /// What a scheduler holds of the cluster, by name (a kept one numbers its nodes in the order
    /// of an older snapshot): placed instances, free capacity and ports per node, instances of an
    /// application per node, and each ministry's guaranteed and borrowed usage.
    struct Held: Equatable, CustomStringConvertible {
        var instances: [String: String] = [:]
        var free: [String: Resources] = [:]
        var ports: [String: [Int: Int]] = [:]
        var perNode: [String: Int] = [:]
        var guaranteed: [String: Resources] = [:]
        var borrowed: [String: Resources] = [:]

        init(_ scheduler: Scheduler) {
            let state = scheduler.state
            for (id, record) in state.instances {
                instances[id] = "\(state.nodes[record.node].name) \(record.guaranteed) \(record.resources)"
            }
            for (index, node) in state.nodes.enumerated() {
                free[node.name] = state.free[index]
                if !state.usedPorts[index].isEmpty { ports[node.name] = state.usedPorts[index].counts }
            }
            for (application, counts) in state.appOnNode {
                for (node, count) in counts where count != 0 {
                    perNode["\(application) \(state.nodes[node].name)"] = count
                }
            }
            guaranteed = state.ledger.guaranteed.filter { $0.value != .zero }
            borrowed = state.ledger.borrowed.filter { $0.value != .zero }
        }

        /// The fields that differ from `other`, each with both values.
        func difference(from other: Held) -> String {
            var parts: [String] = []
            func compare<T: Equatable>(_ name: String, _ a: T, _ b: T) {
                if a != b { parts.append("\(name): \(a) instead of \(b)") }
            }
            compare("instances", instances, other.instances)
            compare("free", free, other.free)
            compare("ports", ports, other.ports)
            compare("per node", perNode, other.perNode)
            compare("guaranteed", guaranteed, other.guaranteed)
            compare("borrowed", borrowed, other.borrowed)
            return parts.joined(separator: "; ")
        }

        var description: String {
            "\(instances.count) instances, guaranteed \(guaranteed), borrowed \(borrowed)"
        }
    }

    /// A cluster of four nodes of 1 cpu in two zones and the harness's two ministries (2 cpu
    /// each, one cohort), driven by random changes and placement rounds run as the loop runs them.
    struct Run {
        var registry: Registry
        let kept = KeptScheduler()
        var rng: SeededRandom
        /// Rounds that planned with the kept scheduler, and rounds in all.
        var keptRounds = 0, rounds = 0

        init(seed: UInt64) throws {
            rng = SeededRandom(seed: seed)
            registry = try PlacementTests.registry("", zones: ["n1": "b", "n2": "a", "n3": "b", "n4": "a"])
        }

        mutating func apply(_ yaml: String) throws { try PlacementTests.apply(yaml, to: &registry) }

        /// The scheduler a round would start from holds what a fresh one holds.
        func expectHeld(_ scheduler: Scheduler, _ when: String) {
            let fresh = Scheduler(
                snapshot: registry.schedulingSnapshot(now: KeptSchedulerTests.now, ready: KeptSchedulerTests.ready))
            let (held, expected) = (Held(scheduler), Held(fresh))
            #expect(held == expected, "\(when), round \(rounds): \(held.difference(from: expected))")
        }

        /// One random change, as an operator, a ministry or an agent would make it.
        mutating func change() {
            let assigned = registry.state.instances.values.filter(Registry.isAssigned).sorted { $0.id < $1.id }
            let applications = registry.state.applications.values.sorted { $0.key < $1.key }
            do {
                switch rng.below(11) {
                case 0, 1, 2:
                    let ministry = rng.pick(["health", "finance"])
                    let extra = rng.pick([
                        "", "\n  placement: {maxPerNode: 1}", "\n  placement: {spread: zone}",
                        "\n  ports: [{name: http, port: 8080}]", "\n  priority: high", "\n  priority: batch",
                    ])
                    try apply(
                        Harness.app(
                            ministry, "app\(rng.below(4))", replicas: 1 + rng.below(4),
                            cpu: rng.pick(["100m", "250m", "500m"]), extra: extra))
                case 3:
                    guard let app = applications.isEmpty ? nil : rng.pick(applications) else { return }
                    registry.apply(
                        try registry.planScale(
                            ministry: app.metadata.ministry ?? "", name: app.metadata.name, replicas: rng.below(5),
                            caller: KeptSchedulerTests.admin, now: KeptSchedulerTests.now, requestID: "t"
                        ).changeset)
                case 4:
                    guard let app = applications.isEmpty ? nil : rng.pick(applications) else { return }
                    registry.apply(
                        try registry.planDeleteApplication(
                            ministry: app.metadata.ministry ?? "", name: app.metadata.name,
                            caller: KeptSchedulerTests.admin, now: KeptSchedulerTests.now, requestID: "t"
                        ).changeset)
                case 5, 6:
                    // An agent reports an instance Running, or lost with its node.
                    guard var instance = assigned.isEmpty ? nil : rng.pick(assigned) else { return }
                    instance.phase = rng.chance(0.7) ? .running : .lost
                    registry.apply(
                        Changeset(basedOn: registry.state.resourceVersion, mutations: [.putInstance(instance)]))
                case 7:
                    // An instance that ended is removed.
                    let ended = registry.state.instances.values.filter { $0.phase == .lost || $0.phase == .terminating }
                    guard let instance = ended.min(by: { $0.id < $1.id }) else { return }
                    registry.apply(
                        Changeset(basedOn: registry.state.resourceVersion, mutations: [.deleteInstance(instance.id)]))
                case 8:
                    let node = "n\(1 + rng.below(4))"
                    registry.apply(
                        try registry.planCordon(
                            name: node, cordon: !(registry.state.nodes[node]?.cordoned ?? false),
                            caller: KeptSchedulerTests.admin, now: KeptSchedulerTests.now, requestID: "t"
                        ).changeset)
                case 9:
                    // An agent reports another allocatable cpu (never below what its instances take).
                    var node = registry.state.nodes["n\(1 + rng.below(4))"]!
                    let cpu = max(Int64(rng.pick([500, 750, 1000])), registry.allocated(on: node.name).cpuMillis)
                    node.allocatable.cpuMillis = cpu
                    node.capacity.cpuMillis = cpu
                    registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putNode(node)]))
                default:
                    try apply(
                        Harness.ministries.replacingOccurrences(
                            of: "quota: {cpu: 2,", with: "quota: {cpu: \(rng.pick(["1", "2", "3"])),"))
                }
            } catch {
                // A refusal (quota, admission) changes nothing: that too is a round's input.
            }
        }

        /// A placement round as `PlacementLoop.placeOnce` runs it; with `between`, a change is
        /// committed after the plan and before the applier takes it.
        mutating func round(between: Bool) {
            let requests = registry.schedulingRequests()
            guard !requests.isEmpty else { return }
            rounds += 1
            let planned = registry
            let terms = planned.termsFingerprint(now: KeptSchedulerTests.now, ready: KeptSchedulerTests.ready)
            let key = KeptScheduler.Key(schedulingRevision: planned.schedulingRevision, terms: terms)
            let builds = kept.builds
            let scheduler = kept.take(
                key, registry: planned, now: KeptSchedulerTests.now, ready: KeptSchedulerTests.ready)
            if kept.builds == builds {
                keptRounds += 1
                expectHeld(scheduler, "the kept scheduler, taken")
            }
            let plan = scheduler.schedule(requests)
            if between {
                if let target = plan.assignments.first?.node, rng.chance(0.5) {
                    // The node the plan places on first shrinks to what it already runs.
                    var node = registry.state.nodes[target]!
                    node.allocatable.cpuMillis = registry.allocated(on: target).cpuMillis
                    registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putNode(node)]))
                } else {
                    change()
                }
            }
            let outcome = registry.planPlacement(
                plan, now: KeptSchedulerTests.now, plannedOn: planned.schedulingRevision,
                ready: KeptSchedulerTests.ready)
            let next = KeptScheduler.key(after: outcome, on: registry, plannedOn: key)
            registry.apply(outcome.changeset)
            // Trusted or re-checked, no plan over-commits a node.
            for node in registry.state.nodes.values {
                #expect(registry.allocated(on: node.name).fits(in: node.allocatable), "\(node.name), round \(rounds)")
            }
            if let next {
                #expect(next.schedulingRevision == registry.schedulingRevision)
                kept.keep(scheduler, as: next)
                expectHeld(scheduler, "the scheduler kept after its plan")
            }
        }
    }

    @Test(
        "over random changes and rounds, a kept scheduler holds exactly what a fresh snapshot gives",
        arguments: [1, 2, 3, 4] as [UInt64])
    func keptEqualsFresh(seed: UInt64) throws {
        var run = try Run(seed: seed)
        for _ in 0..<400 {
            for _ in 0..<run.rng.below(3) { run.change() }
            run.round(between: run.rng.chance(0.2))
        }
        // The kept path is what is tested: enough rounds must have taken it (most changes here
        // change what the scheduler holds, so most rounds build one).
        #expect(run.rounds >= 100)
        #expect(run.keptRounds * 5 >= run.rounds, "\(run.keptRounds) of \(run.rounds) rounds kept the scheduler")
    }

    @Test(
        "a status that moves an instance from Assigned to Running leaves the scheduling revision; a move, a loss, a removal and new constraints move it"
    )
    func schedulingRevision() throws {
        var run = try Run(seed: 9)
        try run.apply(Harness.app("health", "portal", replicas: 2, cpu: "250m"))
        run.round(between: false)
        var registry = run.registry
        let placed = registry.state.instances.values.filter(Registry.isAssigned).sorted { $0.id < $1.id }
        #expect(placed.count == 2)
        let base = registry.schedulingRevision
        func put(_ instance: Instance) {
            registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putInstance(instance)]))
        }
        var running = placed[0]
        running.phase = .running
        running.reason = "started"
        put(running)
        #expect(registry.schedulingRevision == base, "Assigned → Running")
        var cordoned = registry.state.nodes["n1"]!
        cordoned.cordoned = true
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putNode(cordoned)]))
        #expect(registry.schedulingRevision == registry.revision, "a node written")

        var lost = running
        lost.phase = .lost
        put(lost)
        #expect(registry.schedulingRevision == registry.revision, "a loss")
        var moved = placed[1]
        moved.node = moved.node == "n1" ? "n2" : "n1"
        let beforeMove = registry.schedulingRevision
        put(moved)
        #expect(registry.schedulingRevision > beforeMove, "a move")
        let beforeRemoval = registry.schedulingRevision
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.deleteInstance(moved.id)]))
        #expect(registry.schedulingRevision > beforeRemoval, "a removal")

        // An application's constraints: new ones on one with instances move it; a new application does not.
        var app = registry.state.applications["health/portal"]!
        let beforeConstraints = registry.schedulingRevision
        app.spec.placement = Placement(maxPerNode: 1)
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putApplication(app)]))
        #expect(registry.schedulingRevision > beforeConstraints, "new constraints")
        var fresh = app
        fresh.metadata.name = "fresh"
        let beforeNew = registry.schedulingRevision
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putApplication(fresh)]))
        #expect(registry.schedulingRevision == beforeNew, "a new application has no instance to see it")
    }
}
