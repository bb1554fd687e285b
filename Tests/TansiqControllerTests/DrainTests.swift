import Foundation
import TansiqManifest
import TansiqModel
import TansiqStore
import Testing

@testable import TansiqController

@Suite("Drain moves instances off a node within each application's update bounds")
struct DrainTests {
    static let t0 = Date(timeIntervalSince1970: 2_200_000_000)

    /// `portal` (3 replicas, `update`) and `batchjob` (1 replica, batch) running on node a; node b empty.
    static func registry(update: String) throws -> Registry {
        var registry = Registry(state: StoredState())
        let yaml =
            Harness.ministries + "\n---\n"
            + Harness.app("health", "portal", replicas: 3, extra: "\n  update: \(update)")
            + "\n---\n" + Harness.app("health", "batchjob", replicas: 1, extra: "\n  priority: batch")
        let (objects, diagnostics) = ManifestParser.parse(yaml, file: "t")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        registry.apply(
            try registry.planApply(objects, caller: Caller(subject: "a", role: .operator), now: t0, requestID: "r")
                .changeset)
        let capacity = Resources(cpuMillis: 8000, memoryBytes: 16 << 30, storageBytes: 0, instances: 50)
        var mutations: [Mutation] = [
            .putNode(Node(name: "a", phase: .ready, capacity: capacity)),
            .putNode(Node(name: "b", phase: .ready, capacity: capacity)),
        ]
        for var instance in registry.pending {
            instance.node = "a"
            instance.phase = .running
            mutations.append(.putInstance(instance))
        }
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: mutations))
        return registry
    }

    /// Drains node a round by round; between rounds, pending replacements start on b and report Running.
    static func drain(_ registry: inout Registry, floor: Int) throws -> Int {
        registry.apply(
            try registry.planDrain(name: "a", caller: Caller(subject: "op", role: .operator), now: t0, requestID: "r")
                .changeset)
        var rounds = 0
        while registry.state.nodes["a"]!.draining, rounds < 50 {
            rounds += 1
            registry.apply(registry.planDrainRound(now: t0).changeset)
            let serving = registry.state.instances(ofApplication: "health/portal").filter { registry.isReady($0) }
            #expect(serving.count >= floor, "round \(rounds): \(serving.count) serving")
            var started: [Mutation] = []
            for var instance in registry.pending {
                instance.node = "b"
                instance.phase = .running
                started.append(.putInstance(instance))
            }
            registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: started))
        }
        return rounds
    }

    @Test("maxUnavailable 0: a replacement serves before each instance leaves; the node ends empty and cordoned")
    func surgeFirst() throws {
        var registry = try Self.registry(update: "{maxSurge: 1, maxUnavailable: 0}")
        let rounds = try Self.drain(&registry, floor: 3)
        #expect(registry.state.instances(onNode: "a").isEmpty)
        #expect(registry.state.instances(onNode: "b").count == 4)
        #expect(registry.state.nodes["a"]?.cordoned == true && registry.state.nodes["a"]?.draining == false)
        #expect(rounds <= 8)
    }

    @Test("maxUnavailable 1 with maxSurge 0: at most one instance is down at a time")
    func oneDown() throws {
        var registry = try Self.registry(update: "{maxSurge: 0, maxUnavailable: 1}")
        _ = try Self.drain(&registry, floor: 2)
        #expect(registry.state.instances(onNode: "a").isEmpty)
        #expect(registry.state.instances(ofApplication: "health/portal").count == 3)
    }

    @Test("the lowest priority moves first")
    func priorityOrder() throws {
        var registry = try Self.registry(update: "{maxSurge: 1, maxUnavailable: 0}")
        registry.apply(
            try registry.planDrain(
                name: "a", caller: Caller(subject: "op", role: .operator), now: Self.t0, requestID: "r"
            ).changeset)
        let first = registry.planDrainRound(now: Self.t0)
        let surged = first.value.surged.compactMap { id in
            first.changeset.mutations.compactMap { mutation -> String? in
                if case .putInstance(let i) = mutation, i.id == id { return i.application }
                return nil
            }.first
        }
        #expect(surged.first == "batchjob")
    }

    @Test("a NoExecute taint moves off the instances that do not tolerate it, within the update bounds")
    func noExecuteEvicts() throws {
        var registry = try Self.registry(update: "{maxSurge: 1, maxUnavailable: 0}")
        // batchjob tolerates the taint; portal does not.
        var app = registry.state.applications["health/batchjob"]!
        app.spec.placement.tolerations = [Toleration(key: "maintenance", value: "disk", effect: .noExecute)]
        var node = registry.state.nodes["a"]!
        node.taints = [Taint(key: "maintenance", value: "disk", effect: .noExecute)]
        registry.apply(
            Changeset(basedOn: registry.state.resourceVersion, mutations: [.putApplication(app), .putNode(node)]))
        var events: [String] = []
        for _ in 0..<20 {
            let round = registry.planDrainRound(now: Self.t0)
            events += round.changeset.events.map(\.reason)
            registry.apply(round.changeset)
            let serving = registry.state.instances(ofApplication: "health/portal").filter { registry.isReady($0) }
            #expect(serving.count >= 3, "maxUnavailable 0 holds while evicting")
            var started: [Mutation] = []
            for var instance in registry.pending {
                instance.node = "b"
                instance.phase = .running
                started.append(.putInstance(instance))
            }
            registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: started))
        }
        #expect(registry.state.instances(onNode: "a").map(\.application) == ["batchjob"], "the tolerating one stays")
        #expect(registry.state.instances(ofApplication: "health/portal").count == 3)
        #expect(events.filter { $0 == "Evicted" }.count == 3)
        #expect(registry.state.nodes["a"]?.cordoned == false, "a taint is not a drain")
    }
}
