import Foundation
import TansiqModel
import TansiqScheduler
import Testing

@testable import TansiqStore

@Suite("The usage sums the state keeps by ministry")
struct StoredStateUsageTests {
    /// What the sums must be: a pass over every instance that holds resources.
    static func recomputed(_ state: StoredState) -> [String: MinistryUsage] {
        var usage: [String: MinistryUsage] = [:]
        for instance in state.instances.values where instance.holdsResources {
            usage[instance.ministry, default: MinistryUsage()].add(instance)
        }
        return usage
    }

    /// What the indexes must be: a pass over every instance.
    static func reindexed(
        _ state: StoredState
    ) -> (
        byApplication: [String: Set<String>], byNode: [String: Set<String>], unplaced: Set<String>
    ) {
        var byApplication: [String: Set<String>] = [:]
        var byNode: [String: Set<String>] = [:]
        var unplaced: Set<String> = []
        for instance in state.instances.values {
            byApplication["\(instance.ministry)/\(instance.application)", default: []].insert(instance.id)
            if let node = instance.node {
                byNode[node, default: []].insert(instance.id)
            } else {
                unplaced.insert(instance.id)
            }
        }
        return (byApplication, byNode, unplaced)
    }

    @Test("equal a pass over every instance after each of 20,000 random puts and removals, and so do the indexes")
    func incrementalEqualsRecomputed() {
        var rng = SeededRandom(seed: 7)
        var state = StoredState()
        let ministries = ["health", "finance", "education"]
        let phases: [InstancePhase] = [.pending, .assigned, .running, .lost, .preempted, .stopped, .terminating]
        for step in 0..<20_000 {
            let id = "i-\(rng.next() % 300)"
            if rng.next() % 5 == 0 {
                state.removeInstance(id)
            } else {
                var instance = Instance(
                    id: id, ministry: ministries[Int(rng.next() % 3)], application: rng.next() % 3 == 0 ? "web" : "app",
                    generation: 1,
                    node: rng.next() % 4 == 0 ? nil : "n\(rng.next() % 5)", phase: phases[Int(rng.next() % 7)],
                    guaranteed: rng.next() % 2 == 0, priority: .standard,
                    resources: ResourceRequest(
                        cpuMillis: Int64(rng.next() % 4000), memoryBytes: Int64(rng.next() % (8 << 30)),
                        storageBytes: Int64(rng.next() % 3) << 30))
                // A request of nothing at all still counts its instance.
                if rng.next() % 50 == 0 { instance.resources = ResourceRequest(cpuMillis: 0, memoryBytes: 0) }
                state.put(instance)
            }
            if step % 97 == 0 || step == 19_999 {
                #expect(state.usage == Self.recomputed(state), "after step \(step)")
                if state.usage != Self.recomputed(state) { return }
                let indexes = Self.reindexed(state)
                #expect(
                    Dictionary(uniqueKeysWithValues: state.instanceIDsByApplication.map { ($0.key, $0.value) })
                        == indexes.byApplication, "after step \(step)")
                #expect(
                    Dictionary(uniqueKeysWithValues: state.instanceIDsByNode.map { ($0.key, $0.value) })
                        == indexes.byNode, "after step \(step)")
                #expect(Set(state.unplacedInstanceIDs) == indexes.unplaced, "after step \(step)")
                #expect(
                    Set(state.terminatingInstanceIDs)
                        == Set(state.instances.values.filter { $0.phase == .terminating }.map(\.id)),
                    "after step \(step)")
            }
        }
        // Every instance gone: nothing is left in the sums, not even empty entries.
        for id in state.instances.keys { state.removeInstance(id) }
        #expect(state.usage.isEmpty)
        #expect(
            state.instanceIDsByApplication.isEmpty && state.instanceIDsByNode.isEmpty
                && state.unplacedInstanceIDs.isEmpty)
    }
}
