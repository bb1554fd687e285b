import Foundation
import TansiqManifest
import TansiqModel
import TansiqStore
import Testing

@testable import TansiqController

@Suite("Capacity grants expire and quotas are enforced on placed instances")
struct QuotaEnforcementTests {
    static let t0 = Date(timeIntervalSince1970: 2_100_000_000)

    /// `ministries` plus a 1-cpu grant to health until t0+60 s, approved, and health's `portal` of
    /// three 1-cpu instances placed guaranteed on one big node.
    static func registry(ministries: String) throws -> Registry {
        var registry = Registry(state: StoredState())
        let until = RFC3339.format(t0.addingTimeInterval(60))
        let yaml =
            ministries + """

                ---
                apiVersion: tansiq/v1
                kind: CapacityRequest
                metadata: {name: season, ministry: health}
                spec: {add: {cpu: 1}, reason: season, until: "\(until)"}
                """
        let (objects, diagnostics) = ManifestParser.parse(yaml, file: "t")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let filer = Caller(subject: "hala", role: .ministryAdmin, ministry: "health")
        let admin = Caller(subject: "admin", role: .operator)
        registry.apply(
            try registry.planApply(
                objects.filter { $0.object.kind == .ministry }, caller: admin, now: t0, requestID: "r"
            ).changeset)
        registry.apply(
            try registry.planApply(
                objects.filter { $0.object.kind != .ministry }, caller: filer, now: t0, requestID: "r"
            ).changeset)
        registry.apply(
            try registry.planDecide(name: "season", approve: true, comment: nil, caller: admin, now: t0, requestID: "r")
                .changeset)
        let (apps, _) = ManifestParser.parse(Harness.app("health", "portal", replicas: 3, cpu: "1"), file: "t")
        registry.apply(try registry.planApply(apps, caller: admin, now: t0, requestID: "r").changeset)
        let node = Node(
            name: "big", phase: .ready,
            capacity: Resources(cpuMillis: 32000, memoryBytes: 64 << 30, storageBytes: 0, instances: 100))
        var mutations: [Mutation] = [.putNode(node)]
        for var instance in registry.pending {
            instance.node = "big"
            instance.phase = .running
            instance.guaranteed = true
            mutations.append(.putInstance(instance))
        }
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: mutations))
        return registry
    }

    @Test("before `until` nothing changes; after it the grant expires and the newest instance borrows from the cohort")
    func expiryBorrows() throws {
        var registry = try Self.registry(ministries: Harness.ministries)
        #expect(registry.planQuotaEnforcement(now: Self.t0.addingTimeInterval(59)).changeset.mutations.isEmpty)
        let later = Self.t0.addingTimeInterval(61)
        let outcome = registry.planQuotaEnforcement(now: later)
        #expect(outcome.value.expired == ["season"])
        #expect(outcome.value.borrowed == ["health-portal-3"])
        #expect(outcome.value.preempted.isEmpty)
        registry.apply(outcome.changeset)
        #expect(registry.state.capacityRequests["season"]?.status?.phase == .expired)
        #expect(registry.effectiveQuota(of: registry.state.ministries["health"]!, now: later).cpuMillis == 2000)
        #expect(registry.state.instances["health-portal-3"]?.guaranteed == false)
        #expect(registry.planQuotaEnforcement(now: later).changeset.mutations.isEmpty, "one round settles it")
        #expect(outcome.changeset.events.map(\.reason) == ["Expired", "Borrowed"])
    }

    @Test("without a cohort to borrow from, the newest instance is preempted and replaced")
    func expiryPreempts() throws {
        let alone = Harness.ministries.replacingOccurrences(of: "  cohort: shared\n", with: "")
            .replacingOccurrences(of: "  lendingLimit: {cpu: 1}\n", with: "")
        var registry = try Self.registry(ministries: alone)
        let later = Self.t0.addingTimeInterval(61)
        let outcome = registry.planQuotaEnforcement(now: later)
        #expect(outcome.value.preempted == ["health-portal-3"])
        registry.apply(outcome.changeset)
        #expect(registry.state.instances["health-portal-3"]?.phase == .preempted)
        let replacement = registry.pending
        #expect(replacement.count == 1 && replacement[0].application == "portal")
        let guaranteed = registry.state.instances.values.filter { Registry.isAssigned($0) && $0.guaranteed }
        #expect(guaranteed.reduce(0) { $0 + $1.resources.cpuMillis } <= 2000, "never over quota")
    }
}
