import Foundation
import TansiqModel
import TansiqStore
import Testing

@testable import TansiqController

@Suite("Retention: terminated instances are removed a retention period after they end")
struct RetentionTests {
    static let t0 = NodeFailureTests.t0
    static let day: TimeInterval = 86400

    /// A registry whose node n0 fell silent and was evicted at t0 + 31 s: one Lost instance, one
    /// replacement Pending.
    static func evicted() throws -> (Registry, lost: String, at: Date) {
        var registry = try NodeFailureTests.registry(zones: ["a", "b", "c"])
        let late = t0.addingTimeInterval(31)
        registry.apply(
            registry.planNodeFailures(now: late, budget: 10, lastHeard: NodeFailureTests.heard(["n0"], now: late))
                .changeset)
        let lost = try #require(registry.state.instances.values.first { $0.phase == .lost })
        return (registry, lost.id, late)
    }

    @Test("a Lost instance records when it ended and is removed once the retention has passed")
    func lostRemoved() throws {
        var (registry, lost, ended) = try Self.evicted()
        #expect(registry.state.instances[lost]?.endedAt == ended)
        let before = registry.state.instances.count
        let early = registry.planRetention(now: ended.addingTimeInterval(Self.day - 1), retention: Self.day)
        #expect(early.changeset.mutations.isEmpty && early.changeset.resourceVersion == nil)
        let due = registry.planRetention(now: ended.addingTimeInterval(Self.day), retention: Self.day)
        #expect(due.value.removed == [lost])
        #expect(due.changeset.mutations == [.deleteInstance(lost)])
        #expect(due.changeset.resourceVersion == registry.state.resourceVersion + 1, "lists' watchers see it")
        #expect(
            UsageAccounting.closed(by: due.changeset.mutations, before: registry.state, now: ended).isEmpty,
            "its usage interval closed when it was lost; removing it adds none")
        registry.apply(due.changeset)
        #expect(registry.state.instances[lost] == nil)
        #expect(registry.state.instances.count == before - 1)
        #expect(!registry.state.instances(onNode: "n0").contains { $0.id == lost }, "the node's index forgets it")
        #expect(registry.state.instances.values.contains { $0.reason?.contains(lost) == true }, "its replacement stays")
    }

    @Test("preempted instances record their end too; nothing that still runs or waits is ever removed")
    func onlyTerminated() throws {
        var (registry, _, ended) = try Self.evicted()
        let running = try #require(registry.state.instances.values.first { $0.phase == .running })
        let stamp = ended.addingTimeInterval(5)
        registry.apply(
            Changeset(
                basedOn: registry.state.resourceVersion,
                mutations: [.putInstance(running.ended(.preempted, reason: "made room", at: stamp))]))
        let far = registry.planRetention(now: stamp.addingTimeInterval(10 * Self.day), retention: Self.day)
        #expect(far.value.removed.count == 2, "the Lost and the Preempted one")
        registry.apply(far.changeset)
        #expect(registry.state.instances.values.allSatisfy { !$0.phase.isTerminal })
        #expect(!registry.state.instances.isEmpty, "the Pending replacement and the Running ones stay")
        #expect(
            registry.planRetention(now: stamp.addingTimeInterval(100 * Self.day), retention: 1).value.removed.isEmpty)
    }

    @Test("a terminated instance without an end time (ended before it was recorded) starts its retention now")
    func stampedFirst() throws {
        var (registry, lost, _) = try Self.evicted()
        var old = try #require(registry.state.instances[lost])
        old.endedAt = nil
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: [.putInstance(old)]))
        let now = Self.t0.addingTimeInterval(5 * Self.day)
        let first = registry.planRetention(now: now, retention: Self.day)
        #expect(first.value.stamped == [lost] && first.value.removed.isEmpty)
        registry.apply(first.changeset)
        #expect(registry.state.instances[lost]?.endedAt == now)
        #expect(
            registry.planRetention(now: now.addingTimeInterval(Self.day - 1), retention: Self.day).value.removed.isEmpty
        )
        #expect(
            registry.planRetention(now: now.addingTimeInterval(Self.day), retention: Self.day).value.removed == [lost])
    }
}
