import Foundation
import TansiqManifest
import TansiqModel
import TansiqScheduler
import TansiqStore
import Testing

@testable import TansiqController

@Suite("Placement: the plan applier re-checks a plan against the latest state")
struct PlacementTests {
    static let now = Date(timeIntervalSince1970: 1_900_000_000)

    /// A registry with the two harness ministries, one Ready node of 1 cpu, and `portal` with
    /// `replicas` pending instances of 500m.
    static func registry(replicas: Int) throws -> Registry {
        try registry(Harness.app("health", "portal", replicas: replicas, cpu: "500m"), zones: ["n1": "-"])
    }

    /// A registry with the two harness ministries, the application of `yaml` pending (none when
    /// empty), and a Ready node of 1 cpu for each entry of `zones` (name → its `zone` label; `-`
    /// for none).
    static func registry(_ yaml: String, zones: [String: String]) throws -> Registry {
        var registry = Registry(state: StoredState())
        try apply(Harness.ministries + (yaml.isEmpty ? "" : "\n---\n" + yaml), to: &registry)
        let nodes = zones.sorted { $0.key < $1.key }.map { name, zone in
            var node = Node(
                name: name, phase: .ready,
                capacity: Resources(cpuMillis: 1000, memoryBytes: 4 << 30, storageBytes: 1 << 30, instances: 10))
            if zone != "-" { node.labels = ["zone": zone] }
            return node
        }
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: nodes.map { .putNode($0) }))
        return registry
    }

    /// Applies `yaml` as an operator.
    static func apply(_ yaml: String, to registry: inout Registry) throws {
        let (objects, diagnostics) = ManifestParser.parse(yaml, file: "test")
        #expect(diagnostics.isEmpty)
        let admin = Caller(subject: "admin", role: .operator)
        registry.apply(try registry.planApply(objects, caller: admin, now: now, requestID: "t").changeset)
    }

    static func plan(_ registry: Registry) -> Plan {
        let (snapshot, pending) = registry.schedulingInput(now: now) { _ in true }
        return Scheduler.plan(snapshot, pending)
    }

    @Test("pending instances are placed where the scheduler says, as Assigned and guaranteed")
    func places() throws {
        var registry = try Self.registry(replicas: 2)
        let outcome = registry.planPlacement(Self.plan(registry), now: Self.now) { _ in true }
        #expect(outcome.value == PlacementResult(placed: 2, asPlanned: true))
        registry.apply(outcome.changeset)
        #expect(
            registry.state.instances.values.allSatisfy { $0.node == "n1" && $0.phase == .assigned && $0.guaranteed })
        #expect(registry.pending.isEmpty)
    }

    @Test("a plan made before the node filled up places only what still fits")
    func stalePlanDoesNotOvercommit() throws {
        var registry = try Self.registry(replicas: 2)
        let stale = Self.plan(registry)
        // Meanwhile another application takes 750m of the node's 1 cpu.
        var other = registry.state.instances.values.first!
        other.id = "finance-other-99"
        other.ministry = "finance"
        other.application = "other"
        other.node = "n1"
        other.phase = .running
        other.resources = ResourceRequest(cpuMillis: 750, memoryBytes: 1 << 20)
        let plannedOn = registry.schedulingRevision
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putInstance(other)]))
        let outcome = registry.planPlacement(stale, now: Self.now, plannedOn: plannedOn) { _ in true }
        // Not as planned: a kept scheduler that made it no longer holds what the state holds.
        #expect(outcome.value == PlacementResult(placed: 0, asPlanned: false))
        registry.apply(outcome.changeset)
        #expect(registry.allocated(on: "n1").cpuMillis == 750)
    }

    @Test("a plan for a node cordoned or gone since is not applied")
    func cordonedSince() throws {
        var registry = try Self.registry(replicas: 1)
        let stale = Self.plan(registry)
        var node = registry.state.nodes["n1"]!
        node.cordoned = true
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putNode(node)]))
        #expect(registry.planPlacement(stale, now: Self.now) { _ in true }.value.placed == 0)
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.deleteNode("n1")]))
        #expect(registry.planPlacement(stale, now: Self.now) { _ in true }.value.placed == 0)
    }

    @Test(
        "a plan made before a taint or a label change is re-checked by the scheduler's own filters (taints, selector)",
        arguments: ["taint", "label"])
    func staleConstraints(change: String) throws {
        var registry = try Self.registry(
            Harness.app("health", "portal", replicas: 1, extra: "\n  placement: {nodeSelector: {zone: a}}"),
            zones: ["n1": "a"])
        var node = registry.state.nodes["n1"]!
        let stale = Self.plan(registry)
        #expect(stale.assignments.count == 1)
        if change == "taint" {
            node.taints = [Taint(key: "maintenance", value: "yes", effect: .noSchedule)]
        } else {
            node.labels = ["zone": "b"]
        }
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putNode(node)]))
        #expect(
            registry.planPlacement(stale, now: Self.now) { _ in true }.value.placed == 0, "placed despite the \(change)"
        )
    }

    @Test(
        "a plan that would break maxPerNode or spread (as if made from two snapshots) is held to them",
        arguments: ["{maxPerNode: 1}", "{spread: zone}"])
    func stalePlansKeepPerNodeLimits(placement: String) throws {
        let registry = try Self.registry(
            Harness.app("health", "portal", replicas: 2, extra: "\n  placement: \(placement)"),
            zones: ["n1": "a", "n2": "b"])
        let plan = Self.plan(registry)
        #expect(Set(plan.assignments.map(\.node)).count == 2)
        // A plan that would put both on n1 keeps to one there.
        var doubled = plan
        for index in doubled.assignments.indices { doubled.assignments[index].node = "n1" }
        let outcome = registry.planPlacement(doubled, now: Self.now) { _ in true }
        #expect(outcome.value.placed == 1)
    }

    @Test(
        "a plan made on a state the scheduler reads the same (its scheduling revision) is taken as made; after a commit that changes what it reads it is re-checked"
    )
    func schedulingRevisionSkipsTheRecheckOnlyWhenNothingMoved() throws {
        var registry = try Self.registry(
            Harness.app("health", "portal", replicas: 2, extra: "\n  placement: {maxPerNode: 1}"),
            zones: ["n1": "a", "n2": "b"])
        let plannedOn = registry.schedulingRevision
        // Not what the scheduler would plan (two on n1 against maxPerNode 1): taken on trust when
        // the state is the plan's, which is what shows the re-check was skipped.
        var doubled = Self.plan(registry)
        for index in doubled.assignments.indices { doubled.assignments[index].node = "n1" }
        #expect(registry.planPlacement(doubled, now: Self.now, plannedOn: plannedOn) { _ in true }.value.placed == 2)
        // A commit the scheduler does not read (a pending instance's reason) leaves the plan trusted.
        var waiting = registry.pending[0]
        waiting.reason = "waiting"
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putInstance(waiting)]))
        #expect(registry.schedulingRevision == plannedOn)
        #expect(registry.planPlacement(doubled, now: Self.now, plannedOn: plannedOn) { _ in true }.value.placed == 2)
        // One it reads — here another node's label — and the plan is held to the filters again.
        var node = registry.state.nodes["n2"]!
        node.labels = ["zone": "c"]
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putNode(node)]))
        #expect(registry.schedulingRevision == registry.revision)
        #expect(registry.planPlacement(doubled, now: Self.now, plannedOn: plannedOn) { _ in true }.value.placed == 1)
        // A changeset that changes nothing (events alone) leaves both revisions as they were.
        let revision = registry.revision
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: []))
        #expect(registry.revision == revision && registry.schedulingRevision == revision)
    }

    @Test("a plan without spread is re-checked on its own nodes, with the answers the whole cluster gives")
    func recheckOnThePlansNodes() throws {
        var registry = try Self.registry(
            Harness.app("health", "portal", replicas: 5, cpu: "300m", extra: "\n  placement: {maxPerNode: 2}")
                + "\n---\n" + Harness.app("finance", "ledger", replicas: 4, cpu: "350m"),
            zones: ["n1": "a", "n2": "b", "n3": "-"])
        // Two of portal on n1 (its maxPerNode), 400m of n1 left: ledger still fits there, portal not.
        var plan = Self.plan(registry)
        plan.assignments = Array(plan.assignments.filter { $0.instance.hasPrefix("health-portal") }.prefix(2))
        for index in plan.assignments.indices { plan.assignments[index].node = "n1" }
        let first = registry.planPlacement(plan, now: Self.now, plannedOn: registry.schedulingRevision) { _ in true }
        #expect(first.value.placed == 2)
        registry.apply(first.changeset)
        // Since the plan: n2 tainted, n3 cordoned.
        var n2 = registry.state.nodes["n2"]!
        n2.taints = [Taint(key: "maintenance", value: "yes", effect: .noSchedule)]
        var n3 = registry.state.nodes["n3"]!
        n3.cordoned = true
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putNode(n2), .putNode(n3)]))
        let full = Feasibility(registry.schedulingSnapshot(now: Self.now) { _ in true })
        var compared = 0
        var rejected = 0
        for node in ["n1", "n2", "n3"] {
            let own = Feasibility(registry.schedulingSnapshot(now: Self.now, ready: { _ in true }, only: [node]))
            for instance in registry.state.instances.values {
                let request = registry.request(for: instance)
                #expect(own.reject(request, on: node) == full.reject(request, on: node), "\(instance.id) on \(node)")
                compared += 1
                if full.reject(request, on: node) != nil { rejected += 1 }
            }
        }
        #expect(compared == 27)
        #expect(rejected > 0 && rejected < compared, "both answers are compared")
        // The nodes a re-check needs: the plan's, or every node once an assignment spreads.
        let fresh = try Self.registry(replicas: 2)
        let freshPlan = Self.plan(fresh)
        #expect(freshPlan.assignments.count == 2)
        #expect(fresh.recheckedNodes(freshPlan) == ["n1"])
        let spread = try Self.registry(
            Harness.app("health", "portal", replicas: 1, extra: "\n  placement: {spread: zone}"), zones: ["n1": "a"])
        #expect(spread.recheckedNodes(Self.plan(spread)) == nil)
    }

    @Test("the capacity fingerprint moves with every node, placement and quota change, and not with node order")
    func capacityFingerprint() throws {
        let registry = try Self.registry(replicas: 2)
        let fingerprint = { (registry: Registry, ready: Bool) in
            registry.capacityFingerprint(now: Self.now) { _ in ready }
        }
        let base = fingerprint(registry, true)
        #expect(fingerprint(registry, true) == base)
        #expect(fingerprint(registry, false) != base, "readiness")
        var changes: [(String, Registry)] = []
        for change in ["cordon", "label", "taint", "capacity"] {
            var changed = registry
            var node = changed.state.nodes["n1"]!
            switch change {
            case "cordon": node.cordoned = true
            case "label": node.labels = ["zone": "b"]
            case "taint": node.taints = [Taint(key: "k", value: "v", effect: .noSchedule)]
            default: node.allocatable.cpuMillis += 1
            }
            changed.apply(Changeset(basedOn: changed.state.resourceVersion, mutations: [.putNode(node)]))
            changes.append((change, changed))
        }
        var placed = registry
        placed.apply(placed.planPlacement(Self.plan(placed), now: Self.now) { _ in true }.changeset)
        changes.append(("placement", placed))
        var quota = registry
        var ministry = quota.state.ministries["health"]!
        ministry.spec.quota.cpuMillis += 1000
        quota.apply(Changeset(basedOn: quota.state.resourceVersion, mutations: [.putMinistry(ministry)]))
        changes.append(("quota", quota))
        for (change, changed) in changes { #expect(fingerprint(changed, true) != base, "\(change)") }
        // The same nodes put in the other order: the same fingerprint.
        var twoNodes = try Self.registry(Harness.app("health", "portal", replicas: 1), zones: ["n1": "a", "n2": "b"])
        let before = fingerprint(twoNodes, true)
        let nodes = twoNodes.state.nodes.values.sorted { $0.name > $1.name }
        twoNodes.apply(
            Changeset(
                basedOn: twoNodes.state.resourceVersion,
                mutations: nodes.map { .deleteNode($0.name) } + nodes.map { .putNode($0) }))
        #expect(fingerprint(twoNodes, true) == before)
    }

    @Test("instances that do not fit stay Pending with the scheduler's reason")
    func reasons() throws {
        var registry = try Self.registry(replicas: 3)
        let outcome = registry.planPlacement(Self.plan(registry), now: Self.now) { _ in true }
        #expect(outcome.value.placed == 2)
        registry.apply(outcome.changeset)
        let pending = registry.pending
        #expect(pending.count == 1)
        #expect(pending.first?.reason?.contains("insufficient cpu") == true, "\(pending.first?.reason ?? "")")
    }
}

@Suite("Cohort reclaim through the placement loop's plans")
struct CohortReclaimTests {
    static let now = PlacementTests.now

    /// Runs placement rounds until nothing changes; checks the invariants after every commit.
    static func settle(_ registry: inout Registry) {
        for _ in 0..<10 {
            let (snapshot, pending) = registry.schedulingInput(now: now) { _ in true }
            let outcome = registry.planPlacement(Scheduler.plan(snapshot, pending), now: now) { _ in true }
            if outcome.changeset.mutations.isEmpty { return }
            registry.apply(outcome.changeset)
            checkInvariants(registry)
        }
    }

    /// No node over-committed; every ministry's guaranteed use within its quota; borrowing
    /// within what the cohort lends.
    static func checkInvariants(_ registry: Registry) {
        for node in registry.state.nodes.values {
            #expect(registry.allocated(on: node.name).fits(in: node.allocatable), "node \(node.name) over-committed")
        }
        var ledger = Registry.ledger(of: registry.state, now: now)
        for instance in registry.state.instances.values where Registry.isAssigned(instance) {
            ledger.add(instance.ministry, instance.resources.vector, guaranteed: instance.guaranteed)
        }
        for ministry in registry.state.ministries.keys {
            #expect((ledger.guaranteed[ministry] ?? .zero).fits(in: ledger.terms(of: ministry).quota), "\(ministry)")
        }
        #expect(!ledger.overLent("shared"), "the cohort lends more than it has")
    }

    @Test("B borrows A's idle quota; A applies within its quota; B's borrowed instance is preempted, A's placed")
    func lenderGetsItBack() throws {
        var registry = Registry(state: StoredState())
        let admin = Caller(subject: "admin", role: .operator)
        // health may borrow finance's lending limit of 1 cpu; one node of 4 cpu.
        let (setup, _) = ManifestParser.parse(
            Harness.ministries + "\n---\n" + Harness.app("health", "b", replicas: 3, cpu: "1"), file: "t")
        registry.apply(try registry.planApply(setup, caller: admin, now: Self.now, requestID: "r").changeset)
        registry.apply(
            Changeset(
                basedOn: registry.state.resourceVersion,
                mutations: [
                    .putNode(
                        Node(
                            name: "n1", phase: .ready,
                            capacity: Resources(cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 0, instances: 10)))
                ]))
        Self.settle(&registry)
        let b = registry.state.instances(ofApplication: "health/b")
        #expect(b.filter { Registry.isAssigned($0) }.count == 3)
        #expect(b.filter { !$0.guaranteed }.count == 1, "one of B's is borrowed")
        let borrowedID = b.first { !$0.guaranteed }!.id

        let (finance, _) = ManifestParser.parse(Harness.app("finance", "a", replicas: 2, cpu: "1"), file: "t")
        registry.apply(try registry.planApply(finance, caller: admin, now: Self.now, requestID: "r").changeset)
        Self.settle(&registry)
        let a = registry.state.instances(ofApplication: "finance/a")
        #expect(a.filter { Registry.isAssigned($0) && $0.guaranteed }.count == 2, "A gets its quota back")
        #expect(registry.state.instances[borrowedID]?.phase == .preempted)
        #expect(registry.state.instances[borrowedID]?.reason?.isEmpty == false)
        let stillB = registry.state.instances(ofApplication: "health/b").filter { Registry.isAssigned($0) }
        #expect(stillB.count == 2 && stillB.allSatisfy(\.guaranteed), "B keeps what its own quota covers")
        #expect(registry.pending.map(\.application) == ["b"], "B's replacement waits, with a reason")
        #expect(registry.pending.first?.reason != nil)
    }
}
