import Foundation
import TansiqModel
import Testing

@testable import TansiqController

@Suite("POST /v1/apply")
struct ApplyRouteTests {
    @Test("an application is created with its replicas as Pending instances, then reapplying it changes nothing")
    func createThenUnchanged() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let first = try await c.call(
                .post, "/v1/apply", token: "health-admin", body: Harness.app("health", "portal"))
            #expect(first.status == 200, "\(first.body)")
            #expect(first.items.first?["action"] as? String == "created")
            let again = try await c.call(
                .post, "/v1/apply", token: "health-admin", body: Harness.app("health", "portal"))
            #expect(again.items.first?["action"] as? String == "unchanged")
            #expect(again.items.first?["resourceVersion"] as? Int == first.items.first?["resourceVersion"] as? Int)
            let instances = try await c.call(
                .get, "/v1/instances?ministry=health&application=portal", token: "health-viewer")
            #expect(instances.items.count == 2)
            #expect(instances.items.allSatisfy { $0["phase"] as? String == "Pending" && $0.keys.contains("node") })
        }
    }

    @Test("scaling down removes the newest instances; a new template starts a rollout and keeps the old ones serving")
    func scaleAndReplace() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            _ = try await c.call(.post, "/v1/apply", token: "admin", body: Harness.app("health", "portal", replicas: 3))
            let ids = (await h.state).instances.keys.sorted { Registry.serial(of: $0) < Registry.serial(of: $1) }
            let down = try await c.call(
                .post, "/v1/apply", token: "admin", body: Harness.app("health", "portal", replicas: 1))
            #expect(down.items.first?["action"] as? String == "configured")
            #expect(Array((await h.state).instances.keys) == [ids[0]])
            _ = try await c.call(
                .post, "/v1/apply", token: "admin", body: Harness.app("health", "portal", replicas: 2, cpu: "300m"))
            let after = await h.state
            #expect(Array(after.instances.keys) == [ids[0]], "the rollout loop replaces it, not the apply")
            #expect(after.applications["health/portal"]?.metadata.generation == 3)
            #expect(after.applications["health/portal"]?.status?.targetGeneration == 3)
            #expect(after.applications["health/portal"]?.status?.rollout == "Progressing")
            let app = try await c.call(.get, "/v1/ministries/health/applications/portal", token: "admin")
            let status = app.json["status"] as? [String: Any]
            #expect(status?["updated"] as? Int == 0 && status?["desired"] as? Int == 2)
        }
    }

    @Test("a JSON array of manifests is applied like a YAML stream")
    func jsonArray() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let body = """
                [{"apiVersion": "tansiq/v1", "kind": "Application", "metadata": {"name": "api", "ministry": "finance"},
                  "spec": {"resources": {"cpu": "100m", "memory": "64Mi"}, "run": {"command": ["/bin/true"]}}}]
                """
            let reply = try await c.call(
                .post, "/v1/apply", token: "finance-admin", body: body, contentType: "application/json")
            #expect(reply.status == 200, "\(reply.body)")
            #expect((await h.state).applications["finance/api"]?.spec.replicas == 1)
        }
    }

    @Test("invalid manifests get 400 with every error located by document, line and column, and nothing is applied")
    func invalidManifests() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let before = await h.state
            let body =
                Harness.app("health", "ok") + "\n---\n" + Harness.app("health", "bad", cpu: "lots") + "\n  colour: red"
            let reply = try await c.call(.post, "/v1/apply", token: "admin", body: body)
            #expect(reply.status == 400)
            #expect(reply.errorCode == "invalid")
            let details = reply.details
            #expect(details.count == 2, "\(reply.body)")
            #expect(details.contains { ($0["path"] as? String)?.hasPrefix("documents[1].spec.resources.cpu") == true })
            #expect(details.allSatisfy { ($0["line"] as? Int ?? 0) > 7 && $0["column"] is Int })
            #expect(await h.state == before)
        }
    }

    @Test("a reference to a ministry the cluster does not have is refused")
    func unknownMinistry() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let reply = try await c.call(.post, "/v1/apply", token: "admin", body: Harness.app("defence", "radar"))
            #expect(reply.status == 400)
            #expect(reply.body.contains("ministry \\\"defence\\\" is not declared"))
        }
    }

    @Test("an application beyond quota plus borrowing limit is refused with 422 and the numbers; nothing changes")
    func quotaExceeded() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            // health: quota 2 cpu, may borrow finance's lending limit of 1 cpu → 3 cpu at most.
            let ok = try await c.call(
                .post, "/v1/apply", token: "admin", body: Harness.app("health", "a", replicas: 4, cpu: "500m"))
            #expect(ok.status == 200)
            let before = await h.state
            let refused = try await c.call(
                .post, "/v1/apply", token: "health-admin", body: Harness.app("health", "b", replicas: 3, cpu: "500m"))
            #expect(refused.status == 422)
            #expect(refused.errorCode == "quota-exceeded")
            #expect(refused.errorMessage.contains("cpu 3500m"), "\(refused.errorMessage)")
            let paths = refused.details.compactMap { $0["path"] as? String }
            #expect(paths == ["needed", "quota", "borrowingLimit", "inUse.a"])
            #expect(await h.state == before)
            let last = try await h.audit().last
            #expect(last?.result == "quota-exceeded" && last?.subject == "hala")
        }
    }

    @Test("a stale metadata.resourceVersion gets 409")
    func staleVersion() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let created = try await c.call(.post, "/v1/apply", token: "admin", body: Harness.app("health", "portal"))
            let version = created.items.first?["resourceVersion"] as? Int ?? 0
            _ = try await c.call(.post, "/v1/apply", token: "admin", body: Harness.app("health", "portal", replicas: 3))
            let stale = Harness.app("health", "portal", replicas: 4).replacingOccurrences(
                of: "ministry: health}", with: "ministry: health, resourceVersion: \(version)}")
            let reply = try await c.call(.post, "/v1/apply", token: "admin", body: stale)
            #expect(reply.status == 409, "\(reply.body)")
            #expect((await h.state).applications["health/portal"]?.spec.replicas == 3)
        }
    }

    @Test("a dry run answers what would happen and stores nothing")
    func dryRun() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let before = await h.state
            let reply = try await c.call(
                .post, "/v1/apply?dryRun=true", token: "admin", body: Harness.app("health", "x"))
            #expect(reply.status == 200)
            #expect(reply.items.first?["action"] as? String == "created")
            #expect(await h.state == before)
            let bad = try await c.call(
                .post, "/v1/apply?dryRun=maybe", token: "admin", body: Harness.app("health", "x"))
            #expect(bad.status == 400)
        }
    }

    @Test("a body over the limit gets 413, an empty one 400")
    func bodyLimits() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let huge = String(repeating: "# padding\n", count: (API.maxBodySize / 10) + 10)
            let reply = try await c.call(.post, "/v1/apply", token: "admin", body: huge)
            #expect(reply.status == 413)
            #expect(reply.errorCode == "too-large")
            let empty = try await c.call(.post, "/v1/apply", token: "admin", body: "")
            #expect(empty.status == 400)
        }
    }

    @Test("raising quotas past the cluster's capacity warns about the over-commit")
    func overcommitWarning() async throws {
        let h = try await Harness.make(empty: true)
        try await h.test { (c: Client) async throws in
            let reply = try await c.call(.post, "/v1/apply", token: "admin", body: Harness.ministries)
            let warnings = reply.json["warnings"] as? [String] ?? []
            #expect(warnings.contains { $0.contains("exceed the cluster's allocatable capacity by cpu 4") })
        }
    }
}
