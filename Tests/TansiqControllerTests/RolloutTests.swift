import Foundation
import TansiqManifest
import TansiqModel
import TansiqStore
import Testing

@testable import TansiqController

@Suite("Rollouts replace instances under the update bounds, gated on readiness")
struct RolloutTests {
    static let t0 = Date(timeIntervalSince1970: 2_300_000_000)
    static let admin = Caller(subject: "admin", role: .operator)

    /// `portal` with 3 replicas Healthy-equivalent (Running, no health check) on one node.
    static func running(update: String, extra: String = "") throws -> Registry {
        var registry = Registry(state: StoredState())
        let yaml =
            Harness.ministries + "\n---\n"
            + Harness.app("health", "portal", replicas: 3, extra: "\n  update: \(update)" + extra)
        let (objects, diagnostics) = ManifestParser.parse(yaml, file: "t")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        registry.apply(try registry.planApply(objects, caller: admin, now: t0, requestID: "r").changeset)
        let capacity = Resources(cpuMillis: 16000, memoryBytes: 32 << 30, storageBytes: 0, instances: 50)
        var mutations: [Mutation] = [.putNode(Node(name: "n", phase: .ready, capacity: capacity))]
        for var instance in registry.pending {
            instance.node = "n"
            instance.phase = .running
            mutations.append(.putInstance(instance))
        }
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: mutations))
        return registry
    }

    /// Applies a new template (cpu 300m).
    static func change(_ registry: inout Registry, update: String, at time: Date) throws {
        let (objects, _) = ManifestParser.parse(
            Harness.app("health", "portal", replicas: 3, cpu: "300m", extra: "\n  update: \(update)"), file: "t")
        registry.apply(try registry.planApply(objects, caller: admin, now: time, requestID: "r").changeset)
    }

    /// Places pending instances on the node, in `phase`.
    static func start(_ registry: inout Registry, phase: InstancePhase) {
        var mutations: [Mutation] = []
        for var instance in registry.pending {
            instance.node = "n"
            instance.phase = phase
            mutations.append(.putInstance(instance))
        }
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: mutations))
    }

    static func active(_ registry: Registry) -> [Instance] {
        registry.state.instances(ofApplication: "health/portal").filter { !$0.phase.isTerminal }
    }

    @Test("maxUnavailable 0: never fewer than 3 ready at any step; ends with 3 new ids on the new generation")
    func neverBelowReplicas() throws {
        var registry = try Self.running(update: "{maxSurge: 1, maxUnavailable: 0}")
        let oldIDs = Set(Self.active(registry).map(\.id))
        try Self.change(&registry, update: "{maxSurge: 1, maxUnavailable: 0}", at: Self.t0)
        var time = Self.t0
        for _ in 0..<20 {
            time = time.addingTimeInterval(1)
            registry.apply(registry.planRolloutRound(now: time).changeset)
            #expect(Self.active(registry).filter { registry.isReady($0) }.count >= 3)
            Self.start(&registry, phase: .running)
            #expect(Self.active(registry).filter { registry.isReady($0) }.count >= 3)
            if registry.state.applications["health/portal"]?.status?.rollout == "Complete" { break }
        }
        let final = Self.active(registry)
        #expect(registry.state.applications["health/portal"]?.status?.rollout == "Complete")
        #expect(final.count == 3 && final.allSatisfy { $0.generation == 2 && $0.resources.cpuMillis == 300 })
        #expect(Set(final.map(\.id)).isDisjoint(with: oldIDs))
        #expect(registry.withStatus(registry.state.applications["health/portal"]!).status?.available == 3)
    }

    @Test("new instances that never turn ready: the rollout fails at its deadline with the old ones serving")
    func failsAtDeadline() throws {
        let update = "{maxSurge: 1, maxUnavailable: 0, progressDeadline: 30s}"
        var registry = try Self.running(update: update)
        try Self.change(&registry, update: update, at: Self.t0)
        var time = Self.t0
        for _ in 0..<40 {
            time = time.addingTimeInterval(1)
            registry.apply(registry.planRolloutRound(now: time).changeset)
            Self.start(&registry, phase: .starting)  // never ready
            #expect(Self.active(registry).filter { $0.generation == 1 && registry.isReady($0) }.count == 3)
        }
        let status = registry.state.applications["health/portal"]?.status
        #expect(status?.rollout == "Failed")
        #expect(status?.message?.contains("no progress for 30s") == true)
        #expect(Self.active(registry).filter { $0.generation == 2 }.count == 1, "one surge instance, no more")
        // Applying the previous spec rolls back the same way: a new generation of the old template.
        let (previous, _) = ManifestParser.parse(
            Harness.app("health", "portal", replicas: 3, extra: "\n  update: \(update)"), file: "t")
        registry.apply(try registry.planApply(previous, caller: Self.admin, now: time, requestID: "r").changeset)
        #expect(registry.state.applications["health/portal"]?.status?.rollout == "Progressing")
        #expect(registry.state.applications["health/portal"]?.status?.targetGeneration == 3)
    }

    @Test("without quota room for a surge, the rollout goes by maxUnavailable alone and says so")
    func noSurgeRoom() throws {
        // health's quota is 2 cpu and it may borrow 1 from finance: 3 × 1 cpu leave no room for a 4th.
        let update = "{maxSurge: 1, maxUnavailable: 1}"
        var registry = Registry(state: StoredState())
        let (objects, _) = ManifestParser.parse(
            Harness.ministries + "\n---\n"
                + Harness.app("health", "portal", replicas: 3, cpu: "1", extra: "\n  update: \(update)"),
            file: "t")
        registry.apply(try registry.planApply(objects, caller: Self.admin, now: Self.t0, requestID: "r").changeset)
        let capacity = Resources(cpuMillis: 16000, memoryBytes: 32 << 30, storageBytes: 0, instances: 50)
        registry.apply(
            Changeset(
                basedOn: registry.state.resourceVersion,
                mutations: [.putNode(Node(name: "n", phase: .ready, capacity: capacity))]))
        Self.start(&registry, phase: .running)
        let (template, _) = ManifestParser.parse(
            Harness.app("health", "portal", replicas: 3, cpu: "1", extra: "\n  update: \(update)\n  priority: high"),
            file: "t")
        registry.apply(try registry.planApply(template, caller: Self.admin, now: Self.t0, requestID: "r").changeset)
        let round = registry.planRolloutRound(now: Self.t0.addingTimeInterval(1))
        registry.apply(round.changeset)
        #expect(round.value.removed.count == 1, "one old instance down (maxUnavailable 1)")
        #expect(round.value.started.count == 1, "one new in its place, no surge")
        #expect(Self.active(registry).count == 3)
        #expect(
            registry.state.applications["health/portal"]?.status?.message?.contains("no quota room for a surge") == true
        )
    }
}
