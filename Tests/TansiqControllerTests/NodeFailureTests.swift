import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel
import TansiqStore
import Testing

@testable import TansiqController

@Suite("Node failure: NotReady after the grace period, lost instances replaced, partitions held")
struct NodeFailureTests {
    static let t0 = Date(timeIntervalSince1970: 2_000_000_000)

    /// Nodes by zone, each Ready and holding one instance of `portal`.
    static func registry(zones: [String]) throws -> Registry {
        var registry = Registry(state: StoredState())
        let (objects, _) = ManifestParser.parse(
            Harness.ministries + "\n---\n" + Harness.app("health", "portal", replicas: zones.count, cpu: "100m"),
            file: "t")
        registry.apply(
            try registry.planApply(objects, caller: Caller(subject: "a", role: .operator), now: t0, requestID: "r")
                .changeset)
        var mutations: [Mutation] = []
        let instances = registry.pending.sorted { Registry.serial(of: $0.id) < Registry.serial(of: $1.id) }
        for (index, zone) in zones.enumerated() {
            let node = Node(
                name: "n\(index)", phase: .ready, agentLabels: ["zone": zone],
                capacity: Resources(cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 0, instances: 10))
            mutations.append(.putNode(node))
            var instance = instances[index]
            instance.node = node.name
            instance.phase = .running
            instance.guaranteed = true
            mutations.append(.putInstance(instance))
        }
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: mutations))
        return registry
    }

    /// Nodes in `silent` were last heard at t0; the others just now.
    static func heard(_ silent: Set<String>, now: Date) -> (String) -> Date { { silent.contains($0) ? t0 : now } }

    @Test("within the grace period nothing happens; after it the node is NotReady and its instances are replaced")
    func graceThenReplace() throws {
        var registry = try Self.registry(zones: ["a", "b", "c"])
        let early = Self.t0.addingTimeInterval(29)
        #expect(
            registry.planNodeFailures(now: early, budget: 10, lastHeard: Self.heard(["n0"], now: early))
                .changeset.mutations.isEmpty)
        let late = Self.t0.addingTimeInterval(31)
        let outcome = registry.planNodeFailures(now: late, budget: 10, lastHeard: Self.heard(["n0"], now: late))
        #expect(outcome.value == NodeFailures(notReady: ["n0"], evicted: ["n0"], held: []))
        let lostID = registry.state.instances(onNode: "n0")[0].id
        registry.apply(outcome.changeset)
        #expect(registry.state.nodes["n0"]?.phase == .notReady)
        #expect(registry.state.instances[lostID]?.phase == .lost)
        let replacement = registry.pending
        #expect(replacement.count == 1)
        #expect(replacement[0].id != lostID && replacement[0].reason?.contains(lostID) == true)
        #expect(registry.assignments(of: "n0", version: 1).instances.isEmpty, "the lost instance is fenced off")
        // The node comes back: Ready again, and its lost instance stays out of its assignments.
        let status = AgentProtocol.Status(
            capacity: registry.state.nodes["n0"]!.capacity, allocatable: registry.state.nodes["n0"]!.capacity,
            labels: ["zone": "a"], enforcement: .none, instances: [.init(id: lostID, phase: .running)])
        registry.apply(try #require(try registry.planStatus(node: "n0", status)))
        #expect(registry.state.nodes["n0"]?.phase == .ready)
        #expect(registry.state.instances[lostID]?.phase == .lost)
        #expect(registry.assignments(of: "n0", version: 1).instances.isEmpty)
    }

    @Test("more than half of a zone silent is a partition: no evictions there")
    func partition() throws {
        let registry = try Self.registry(zones: ["a", "a", "a", "a", "b"])
        let late = Self.t0.addingTimeInterval(60)
        let outcome = registry.planNodeFailures(
            now: late, budget: 10, lastHeard: Self.heard(["n0", "n1", "n2"], now: late))
        #expect(outcome.value.notReady == ["n0", "n1", "n2"])
        #expect(outcome.value.evicted.isEmpty)
        #expect(outcome.value.held == ["n0", "n1", "n2"])
        #expect(
            !outcome.changeset.mutations.contains {
                if case .putInstance(let i) = $0 { return i.phase == .lost }
                return false
            })
    }

    @Test("nodes cut off together cross the grace period apart: the first to cross is held while the others are silent")
    func staggeredPartition() throws {
        var registry = try Self.registry(zones: ["a", "a", "a", "a", "b"])
        // n0 last reported 5 s before n1 and n2; all three fell silent at once, n3 and n4 report.
        let late = Self.t0.addingTimeInterval(31)
        let heard = { (node: String) -> Date in
            switch node {
            case "n0": Self.t0
            case "n1", "n2": Self.t0.addingTimeInterval(5)
            default: late
            }
        }
        let first = registry.planNodeFailures(now: late, budget: 10, lastHeard: heard)
        #expect(first.value == NodeFailures(notReady: ["n0"], evicted: [], held: ["n0"]))
        registry.apply(first.changeset)
        let later = Self.t0.addingTimeInterval(40)
        let second = registry.planNodeFailures(now: later, budget: 10, lastHeard: heard)
        #expect(second.value == NodeFailures(notReady: ["n1", "n2"], evicted: [], held: ["n0", "n1", "n2"]))
        // A lone node silent for less than half the grace period beside a NotReady one is not
        // a partition: n0 alone NotReady in zone a, n1 unheard for 14 s of 30.
        let lone = try Self.registry(zones: ["a", "a", "a", "a", "b"])
        let alone = lone.planNodeFailures(
            now: late, budget: 10,
            lastHeard: { $0 == "n0" ? Self.t0 : ($0 == "n1" ? late.addingTimeInterval(-14) : late) })
        #expect(alone.value == NodeFailures(notReady: ["n0"], evicted: ["n0"], held: []))
    }

    @Test("every node silent means the controller is cut off: nothing is evicted")
    func everyNodeSilent() throws {
        let registry = try Self.registry(zones: ["a", "b"])
        let late = Self.t0.addingTimeInterval(60)
        let outcome = registry.planNodeFailures(now: late, budget: 10, lastHeard: Self.heard(["n0", "n1"], now: late))
        #expect(outcome.value.evicted.isEmpty && outcome.value.held == ["n0", "n1"])
    }

    @Test("evictions are rate-limited: the budget bounds how many nodes lose their instances per round")
    func budget() throws {
        var registry = try Self.registry(zones: ["a", "b", "c", "d"])
        let late = Self.t0.addingTimeInterval(60)
        let silent = Self.heard(["n0", "n1"], now: late)
        let first = registry.planNodeFailures(now: late, budget: 1, lastHeard: silent)
        #expect(first.value.evicted == ["n0"] && first.value.held == ["n1"])
        registry.apply(first.changeset)
        let second = registry.planNodeFailures(now: late, budget: 1, lastHeard: silent)
        #expect(second.value.evicted == ["n1"] && second.value.notReady.isEmpty)
        registry.apply(second.changeset)
        #expect(registry.planNodeFailures(now: late, budget: 1, lastHeard: silent).changeset.mutations.isEmpty)
    }
}
