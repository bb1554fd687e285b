import Foundation
import TansiqTestSupport
import Testing

/// `POST /v1/plan` and `GET /v1/snapshot` through the real controller, with simulated nodes.
@Suite("What-if on the controller: plan and snapshot", .serialized)
struct PlanRouteTests {
    /// Two Ready simulated nodes of 2 cpu, and the two ministries of the harness.
    static func withCluster(_ body: (LiveController) async throws -> Void) async throws {
        try await LiveController.with { live in
            try await live.withNodes(
                ["node-a", "node-b"], capacity: ["cpu": "2", "memory": "8Gi", "storage": "100Gi", "instances": 50]
            ) { _ in
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                #expect(try await eventually(.seconds(10)) { try await Self.readyNodes(live) == 2 })
                try await body(live)
            }
        }
    }

    static func readyNodes(_ live: LiveController) async throws -> Int {
        try await live.call(.GET, "/v1/nodes", token: live.operatorToken).items
            .filter { $0["phase"] as? String == "Ready" }.count
    }

    static func plan(_ live: LiveController, _ yaml: String, token: String? = nil) async throws -> Reply {
        try await live.call(
            .POST, "/v1/plan", token: token ?? live.operatorToken, body: yaml, contentType: "application/yaml")
    }

    /// Instance id → node, of the placed instances of `ministry`.
    static func placed(_ live: LiveController, _ ministry: String) async throws -> [String: String] {
        var result: [String: String] = [:]
        for item in try await live.call(.GET, "/v1/instances?ministry=\(ministry)", token: live.operatorToken).items {
            if let id = item["id"] as? String, let node = item["node"] as? String { result[id] = node }
        }
        return result
    }

    @Test("plan places what apply then places, on the same nodes with the same ids, and stores nothing")
    func planAgreesWithApply() async throws {
        try await Self.withCluster { live in
            let app = Harness.app("health", "portal", replicas: 3, cpu: "500m")
            let version = try await LiveControllerTests.version(live)
            let planned = try await Self.plan(live, app)
            #expect(planned.status == 200, "\(planned.body)")
            let result = planned.json as? [String: Any]
            let items = result?["items"] as? [[String: Any]] ?? []
            #expect(items.first?["action"] as? String == "created")
            var where_: [String: String] = [:]
            for placement in result?["placements"] as? [[String: Any]] ?? [] {
                where_[placement["instance"] as? String ?? ""] = placement["node"] as? String
                #expect(placement["guaranteed"] as? Bool == true)
            }
            #expect(where_.count == 3, "\(planned.body)")
            let quota = (result?["quotas"] as? [[String: Any]])?.first { $0["ministry"] as? String == "health" }
            #expect((quota?["guaranteed"] as? [String: Any])?["cpu"] as? String == "1500m", "\(planned.body)")
            #expect(quota?["fairShare"] as? Int == 0 && quota?["weight"] as? Double == 1)
            // Nothing stored, nothing moved.
            #expect(try await LiveControllerTests.version(live) == version)
            #expect(try await Self.placed(live, "health").isEmpty)

            #expect(try await LiveControllerTests.apply(live, app).status == 200)
            #expect(try await eventually(.seconds(10)) { try await Self.placed(live, "health").count == 3 })
            #expect(try await Self.placed(live, "health") == where_, "plan said \(where_)")
        }
    }

    @Test("plan refuses what apply refuses, with apply's status and numbers, and a pending reason code otherwise")
    func planRefusesLikeApply() async throws {
        try await Self.withCluster { live in
            // Beyond quota plus borrowing: 422 from both, the same error.
            let big = Harness.app("finance", "big", replicas: 1, cpu: "64")
            let planned = try await Self.plan(live, big)
            let applied = try await LiveControllerTests.apply(live, big)
            #expect(planned.status == 422 && applied.status == 422, "\(planned.body)")
            let planError = (planned.json as? [String: Any])?["error"] as? [String: Any]
            let applyError = (applied.json as? [String: Any])?["error"] as? [String: Any]
            #expect(planError?["code"] as? String == "quota-exceeded")
            #expect(planError?["message"] as? String == applyError?["message"] as? String)
            #expect(
                (planError?["details"] as? NSArray).map { $0.isEqual(to: applyError?["details"] as? [Any] ?? []) }
                    == true, "\(planned.body)")
            // Invalid manifests: 400 with the location, as apply.
            let invalid = try await Self.plan(live, "apiVersion: tansiq/v1\nkind: Application\nmetadata: {name: x}\n")
            #expect(invalid.status == 400, "\(invalid.body)")
            // Another ministry's application: 403 for a ministry role, as apply.
            let token = try await LiveControllerTests.token(live, role: "ministry-admin", subject: "hala")
            let other = try await Self.plan(live, Harness.app("finance", "theirs"), token: token)
            #expect(other.status == 403, "\(other.body)")
            // Admitted but no node matches: pending with its reason code, which apply then shows too.
            let nowhere = Harness.app(
                "health", "nowhere", replicas: 1, extra: "\n  placement: {nodeSelector: {zone: mars}}")
            let waiting = try await Self.plan(live, nowhere, token: token)
            #expect(waiting.status == 200, "\(waiting.body)")
            let pending = (waiting.json as? [String: Any])?["pending"] as? [[String: Any]] ?? []
            #expect(
                pending.count == 1 && pending.first?["reasonCode"] as? String == "NoMatchingNode", "\(waiting.body)")
            #expect(try await LiveControllerTests.apply(live, nowhere).status == 200)
            let code = try await eventually(.seconds(10)) {
                try await live.call(
                    .GET, "/v1/instances?ministry=health&application=nowhere", token: live.operatorToken
                )
                .items.first?["reasonCode"] as? String == "NoMatchingNode"
            }
            #expect(code)
        }
    }

    @Test("the snapshot shows a ministry role its own quota terms and its cohort's aggregate, nothing of the others")
    func snapshotByRole() async throws {
        try await Self.withCluster { live in
            #expect(
                try await LiveControllerTests.apply(live, Harness.app("finance", "ledger", replicas: 2)).status == 200)
            #expect(try await eventually(.seconds(10)) { try await Self.placed(live, "finance").count == 2 })
            let all = try await live.call(.GET, "/v1/snapshot", token: live.operatorToken)
            let everything = all.json as? [String: Any]
            #expect(
                (everything?["ministries"] as? [[String: Any]])?.compactMap { $0["ministry"] as? String }
                    == ["finance", "health"], "\(all.body)")
            let token = try await LiveControllerTests.token(live, role: "ministry-viewer", subject: "omar")
            let own = try await live.call(.GET, "/v1/snapshot", token: token)
            #expect(own.status == 200, "\(own.body)")
            let snapshot = own.json as? [String: Any]
            #expect(
                (snapshot?["ministries"] as? [[String: Any]])?.compactMap { $0["ministry"] as? String } == ["health"])
            let cohort = (snapshot?["cohorts"] as? [[String: Any]])?.first
            #expect(cohort?["name"] as? String == "shared")
            // health lends its 2 cpu, finance its lending limit of 1 (it uses 500m of 2).
            #expect((cohort?["pool"] as? [String: Any])?["cpu"] as? String == "3", "\(own.body)")
            let placed = snapshot?["placed"] as? [[String: Any]] ?? []
            #expect(placed.count == 2 && placed.allSatisfy { $0["ministry"] as? String == "-" })
            for secret in ["finance", "ledger", "GOV-MOF"] { #expect(!own.body.contains(secret), "\(own.body)") }
        }
    }
}
