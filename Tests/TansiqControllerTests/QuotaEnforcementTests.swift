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
    static func registry(
        ministries: String, portal: String = Harness.app("health", "portal", replicas: 3, cpu: "1")
    ) throws -> Registry {
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
        let (apps, _) = ManifestParser.parse(portal, file: "t")
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

    /// Health without a cohort, allowed `critical`.
    static let aloneWithCritical = Harness.ministries.replacingOccurrences(of: "  cohort: shared\n", with: "")
        .replacingOccurrences(of: "  lendingLimit: {cpu: 1}\n", with: "")
        .replacingOccurrences(
            of: "instances: 10}\n---", with: "instances: 10}\n  priorities: [critical, standard]\n---")

    @Test(
        "critical instances are never evicted: the ministry reads overQuota, gets an event, and is admitted nothing new"
    )
    func criticalNeverEvicted() throws {
        let critical = Harness.app("health", "portal", replicas: 3, cpu: "1", extra: "\n  priority: critical")
        var registry = try Self.registry(ministries: Self.aloneWithCritical, portal: critical)
        #expect(registry.state.instances.values.filter { $0.priority == .critical }.count == 3)
        let later = Self.t0.addingTimeInterval(61)
        let outcome = registry.planQuotaEnforcement(now: later)
        #expect(outcome.value.expired == ["season"])
        #expect(outcome.value.preempted.isEmpty && outcome.value.borrowed.isEmpty, "no critical instance moves")
        #expect(outcome.value.overQuota == ["health"])
        #expect(outcome.changeset.events.map(\.reason) == ["Expired", "OverQuota"])
        registry.apply(outcome.changeset)
        #expect(registry.state.ministries["health"]?.status?.overQuota == true)
        #expect(registry.state.instances.values.allSatisfy { $0.phase == .running })
        #expect(
            registry.planQuotaEnforcement(now: later).changeset.events.isEmpty,
            "the event is said once, not every round")

        // Nothing new is admitted while over, with the reason; nothing changes.
        let admin = Caller(subject: "admin", role: .operator)
        let (grown, _) = ManifestParser.parse(Harness.app("health", "batch", replicas: 1, cpu: "100m"), file: "t")
        let before = registry.state
        do {
            _ = try registry.planApply(grown, caller: admin, now: later, requestID: "r")
            Issue.record("an over-quota ministry was admitted a new application")
        } catch {
            #expect(error.code == .quotaExceeded)
            #expect(error.message.contains("critical instances keep ministry health above its effective quota"))
        }
        #expect(registry.state == before)

        // A new grant brings it back within: said once, and admission opens again.
        let (more, _) = ManifestParser.parse(
            """
            apiVersion: tansiq/v1
            kind: CapacityRequest
            metadata: {name: more, ministry: health}
            spec: {add: {cpu: 2}, reason: critical load}
            """, file: "t")
        let filer = Caller(subject: "hala", role: .ministryAdmin, ministry: "health")
        registry.apply(try registry.planApply(more, caller: filer, now: later, requestID: "r").changeset)
        registry.apply(
            try registry.planDecide(
                name: "more", approve: true, comment: nil, caller: admin, now: later, requestID: "r"
            )
            .changeset)
        let back = registry.planQuotaEnforcement(now: later)
        #expect(back.changeset.events.map(\.reason) == ["BackWithinQuota"])
        registry.apply(back.changeset)
        #expect(registry.state.ministries["health"]?.status?.overQuota == false)
        _ = try registry.planApply(grown, caller: admin, now: later, requestID: "r")
    }

    @Test("lowest priority leaves first, then the newest; critical stays")
    func evictionOrder() throws {
        var registry = try Self.registry(
            ministries: Self.aloneWithCritical,
            portal: Harness.app("health", "portal", replicas: 1, cpu: "1", extra: "\n  priority: critical"))
        let admin = Caller(subject: "admin", role: .operator)
        let (web, _) = ManifestParser.parse(Harness.app("health", "web", replicas: 2, cpu: "1"), file: "t")
        registry.apply(try registry.planApply(web, caller: admin, now: Self.t0, requestID: "r").changeset)
        let placed: [Mutation] = registry.pending.map { instance in
            var instance = instance
            instance.node = "big"
            instance.phase = .running
            instance.guaranteed = true
            return .putInstance(instance)
        }
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: placed))
        let outcome = registry.planQuotaEnforcement(now: Self.t0.addingTimeInterval(61))
        #expect(outcome.value.preempted == ["health-web-3"], "the newest standard instance goes, not the critical one")
        #expect(outcome.value.overQuota.isEmpty)
    }
}
