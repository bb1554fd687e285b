import Foundation
import TansiqTestSupport
import Testing

/// Weighted fair sharing through the real controller, with nodes speaking the agent protocol.
@Suite("Fair sharing of idle capacity through the real controller", .serialized)
struct LiveFairShareTests {
    /// A lender with 12 idle cpus; borrowers `heavy` (weight 2) and `light` (weight 1) of 1 cpu each.
    static let cohort = """
        apiVersion: tansiq/v1
        kind: Ministry
        metadata: {name: lender}
        spec:
          code: GOV-LEND
          displayName: {en: Lender, ar: المقرض}
          quota: {cpu: 12, memory: 64Gi, storage: 10Gi, instances: 100}
          cohort: shared
        ---
        apiVersion: tansiq/v1
        kind: Ministry
        metadata: {name: heavy}
        spec:
          code: GOV-HEAVY
          displayName: {en: Heavy, ar: الثقيل}
          quota: {cpu: 1, memory: 4Gi, storage: 10Gi, instances: 20}
          cohort: shared
          weight: 2
        ---
        apiVersion: tansiq/v1
        kind: Ministry
        metadata: {name: light}
        spec:
          code: GOV-LIGHT
          displayName: {en: Light, ar: الخفيف}
          quota: {cpu: 1, memory: 4Gi, storage: 10Gi, instances: 20}
          cohort: shared
          weight: 1
        """

    /// Each borrower wants all the idle capacity: its own cpu and the lender's twelve.
    static func greedy(_ ministry: String) -> String {
        Harness.app(ministry, "work", replicas: 13, cpu: "1")
    }

    /// Borrowed cpus by ministry, of instances placed and running.
    static func borrowed(_ live: LiveController) async throws -> [String: Int] {
        let instances = try await live.call(.GET, "/v1/instances", token: live.operatorToken).items
        var counts: [String: Int] = [:]
        for instance in instances
        where instance["guaranteed"] as? Bool == false && instance["phase"] as? String == "Running" {
            counts[instance["ministry"] as? String ?? "", default: 0] += 1
        }
        return counts
    }

    /// What each instance does, for failure messages.
    static func describe(_ live: LiveController) async throws -> String {
        try await live.call(.GET, "/v1/instances", token: live.operatorToken).items.map {
            "\($0["id"] ?? "-") \($0["phase"] ?? "-") g=\($0["guaranteed"] ?? "-") \($0["reasonCode"] ?? "") \($0["reason"] ?? "")"
        }.joined(separator: "\n")
    }

    @Test(
        "two borrowers of weights 2 and 1 who both want the whole idle pool end 8:4 (± one), whichever applies first",
        arguments: [["heavy", "light"], ["light", "heavy"]])
    func weightsTwoToOne(order: [String]) async throws {
        try await LiveController.with(arguments: ["--grace-period", "5s"]) { live in
            try await live.withNodes(
                ["node-a", "node-b"], capacity: ["cpu": "8", "memory": "32Gi", "storage": "100Gi", "instances": 50]
            ) { _ in
                try await Self.contend(live, order: order)
            }
        }
    }

    /// Applies the cohort, the first borrower, waits for it to hold the pool, then the second.
    static func contend(_ live: LiveController, order: [String]) async throws {
        #expect(try await LiveControllerTests.apply(live, Self.cohort).status == 200)
        let first = try await LiveControllerTests.apply(live, Self.greedy(order[0]))
        #expect(first.status == 200, "\(first.body)")
        let alone = try await eventually(.seconds(20)) { try await Self.borrowed(live)[order[0]] == 12 }
        let picture = try await Self.describe(live)
        #expect(alone, "the first borrower takes the whole idle pool while it is alone:\n\(picture)")
        let second = try await LiveControllerTests.apply(live, Self.greedy(order[1]))
        #expect(second.status == 200, "\(second.body)")
        let settled = try await eventually(.seconds(30)) {
            let counts = try await Self.borrowed(live)
            return abs((counts["heavy"] ?? 0) - 8) <= 1 && abs((counts["light"] ?? 0) - 4) <= 1
                && (counts["heavy"] ?? 0) + (counts["light"] ?? 0) == 12
        }
        let counts = try await Self.borrowed(live)
        #expect(settled, "borrowed cpus: \(counts)")

        // Each ministry sees its own share and the waiting reason; never the other's instance ids.
        let light = try await live.call(.GET, "/v1/ministries/light", token: live.operatorToken)
        let status = (light.json as? [String: Any])?["status"] as? [String: Any]
        #expect((status?["fairShare"] as? Int).map { abs($0 - 285) <= 72 } == true, "4/14 ≈ 285‰: \(light.body)")
        let pending = try await live.call(.GET, "/v1/instances?phase=Pending", token: live.operatorToken).items
        #expect(
            pending.allSatisfy {
                ["WaitingForFairShare", "QuotaExhausted"].contains($0["reasonCode"] as? String ?? "")
            }, "\(pending.map { $0["reasonCode"] ?? "-" })")
        // Stable: nothing ping-pongs once settled.
        try await Task.sleep(for: .seconds(2))
        #expect(try await Self.borrowed(live) == counts, "no further preemption after settling")
        try await Self.planReclaim(live)
    }

    /// The lender plans four cpus of its own: the pool it lends shrinks by four, so at least four
    /// borrowed instances go (reclaim does not look at shares; the borrowers' pending instances
    /// may then rebalance by fair share in the same round). The operator's plan names the
    /// victims; the lender's own plan says as many would go, never whose.
    static func planReclaim(_ live: LiveController) async throws {
        let minted = try await live.call(
            .POST, "/v1/tokens", token: live.operatorToken,
            body: #"{"subject": "rana", "role": "ministry-admin", "ministry": "lender", "ttl": "1h"}"#)
        let token = try #require((minted.json as? [String: Any])?["token"] as? String, "\(minted.body)")
        let reclaim = Harness.app("lender", "reclaim", replicas: 4, cpu: "1")
        let before = try await live.call(.GET, "/v1/instances", token: live.operatorToken).items.count
        let asOperator = try await live.call(
            .POST, "/v1/plan", token: live.operatorToken, body: reclaim, contentType: "application/yaml")
        #expect(asOperator.status == 200, "\(asOperator.body)")
        let full = asOperator.json as? [String: Any]
        let victims = (full?["preemptions"] as? [[String: Any]]) ?? []
        #expect(victims.count >= 4, "\(asOperator.body)")
        #expect(victims.allSatisfy { ["heavy", "light"].contains($0["ministry"] as? String ?? "") })
        #expect((full?["placements"] as? [[String: Any]])?.count == 4, "\(asOperator.body)")
        let asLender = try await live.call(
            .POST, "/v1/plan", token: token, body: reclaim, contentType: "application/yaml")
        #expect(asLender.status == 200, "\(asLender.body)")
        let own = (asLender.json as? [String: Any])?["preemptions"] as? [[String: Any]] ?? []
        #expect(own.count == victims.count && own.allSatisfy { $0["instance"] == nil && $0["ministry"] == nil })
        for name in ["heavy", "light", "work-"] { #expect(!asLender.body.contains(name), "\(asLender.body)") }
        let quotas = (asLender.json as? [String: Any])?["quotas"] as? [[String: Any]] ?? []
        #expect(quotas.map { $0["ministry"] as? String } == ["lender"], "only its own quota: \(asLender.body)")
        // Nothing was stored.
        #expect(try await live.call(.GET, "/v1/instances", token: live.operatorToken).items.count == before)
        let app = try await live.call(.GET, "/v1/ministries/lender/applications/reclaim", token: live.operatorToken)
        #expect(app.status == 404)
    }
}
