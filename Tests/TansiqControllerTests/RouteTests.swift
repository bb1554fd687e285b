import Foundation
import TansiqModel
import Testing

@testable import TansiqController

@Suite("Reads, deletes, capacity requests, tokens and errors")
struct RouteTests {
    @Test("health and readiness need no token; metrics need an operator or auditor")
    func healthAndMetrics() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            #expect(try await c.call(.get, "/healthz").status == 200)
            #expect(try await c.call(.get, "/readyz").status == 200)
            #expect(try await c.call(.get, "/metrics").status == 401)
            #expect(try await c.call(.get, "/metrics", token: "health-admin").status == 403)
            let metrics = try await c.call(.get, "/metrics", token: "auditor")
            #expect(metrics.status == 200)
            #expect(metrics.body.contains("tansiq_http_requests_total"))
            #expect(metrics.body.contains("tansiq_store_commit_seconds"))
        }
    }

    @Test("errors use the envelope: unknown routes 404, no token 401 with a request id")
    func errorEnvelope() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let missing = try await c.call(.get, "/v1/nothing-here", token: "admin")
            #expect(missing.status == 404)
            #expect(missing.errorCode == "not-found")
            let anonymous = try await c.call(.get, "/v1/ministries")
            #expect(anonymous.status == 401)
            #expect(anonymous.errorCode == "unauthenticated")
            #expect(anonymous.headers[.init("X-Request-ID")!] != nil)
            let garbage = try await c.call(.get, "/v1/ministries", rawToken: "tq_nope.nope")
            #expect(garbage.status == 401)
        }
    }

    @Test("expired and revoked tokens are refused, and a bootstrap token is not a person's token")
    func deadTokens() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            #expect(try await c.call(.get, "/v1/ministries", token: "expired").status == 401)
            #expect(try await c.call(.get, "/v1/ministries", token: "revoked").status == 401)
            #expect(try await c.call(.get, "/v1/ministries", token: "bootstrap").status == 401)
        }
    }

    @Test("tokens are issued, listed without secrets, and stop working once revoked")
    func tokenLifecycle() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let body = #"{"subject": "nour", "role": "ministry-viewer", "ministry": "health", "ttl": "2h"}"#
            let issued = try await c.call(
                .post, "/v1/tokens", token: "admin", body: body, contentType: "application/json")
            #expect(issued.status == 201, "\(issued.body)")
            let token = issued.json["token"] as? String ?? ""
            let id = issued.json["id"] as? String ?? ""
            #expect(try await c.call(.get, "/v1/ministries/health", rawToken: token).status == 200)
            #expect(try await c.call(.get, "/v1/ministries/finance", rawToken: token).status == 403)
            let list = try await c.call(.get, "/v1/tokens", token: "auditor")
            #expect(list.items.contains { $0["id"] as? String == id && $0["subject"] as? String == "nour" })
            #expect(!list.body.contains(token) && !list.body.contains("hash"))
            #expect(try await c.call(.delete, "/v1/tokens/\(id)", token: "health-admin").status == 403)
            #expect(try await c.call(.delete, "/v1/tokens/\(id)", token: "admin").status == 200)
            #expect(try await c.call(.get, "/v1/ministries/health", rawToken: token).status == 401)
            #expect(try await c.call(.delete, "/v1/tokens/nothing", token: "admin").status == 404)
        }
    }

    @Test("a token request with a bad role, a missing ministry or a bad lifetime is refused with each reason")
    func badTokenRequests() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let badRole = try await c.call(
                .post, "/v1/tokens", token: "admin", body: #"{"subject": "x", "role": "king"}"#,
                contentType: "application/json")
            #expect(badRole.status == 400)
            #expect(badRole.details.first?["path"] as? String == "role")
            let bad = try await c.call(
                .post, "/v1/tokens", token: "admin", body: #"{"subject": "", "role": "ministry-admin", "ttl": "soon"}"#,
                contentType: "application/json")
            #expect(bad.status == 400)
            #expect(Set(bad.details.compactMap { $0["path"] as? String }) == ["subject", "ministry", "ttl"])
            let notJSON = try await c.call(
                .post, "/v1/tokens", token: "admin", body: "{", contentType: "application/json")
            #expect(notJSON.status == 400)
            #expect(notJSON.errorCode == "invalid")
            let tokensBefore = (await h.state).tokens.count
            let bootstrap = try await c.call(.post, "/v1/bootstrap-tokens", token: "admin", body: "")
            #expect(bootstrap.status == 201)
            #expect((await h.state).tokens.count == tokensBefore + 1)
        }
    }

    @Test("a capacity request is filed by a ministry, decided by another operator, and raises the effective quota")
    func capacityRequests() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let body = #"{"metadata": {"ministry": "health"}, "spec": {"add": {"cpu": "2"}, "reason": "season"}}"#
            let filed = try await c.call(
                .post, "/v1/capacity-requests", token: "health-admin", body: body, contentType: "application/json")
            #expect(filed.status == 201, "\(filed.body)")
            let name = (filed.json["metadata"] as? [String: Any])?["name"] as? String ?? ""
            #expect(name.hasPrefix("health-"))
            let other = try await c.call(
                .post, "/v1/capacity-requests", token: "finance-admin", body: body, contentType: "application/json")
            #expect(other.status == 403)
            #expect(
                try await c.call(.post, "/v1/capacity-requests/\(name)/approve", token: "health-admin").status == 403)
            #expect(try await c.call(.get, "/v1/capacity-requests/\(name)", token: "finance-admin").status == 404)
            let approved = try await c.call(
                .post, "/v1/capacity-requests/\(name)/approve", token: "admin", body: #"{"comment": "ok"}"#,
                contentType: "application/json")
            #expect(approved.status == 200, "\(approved.body)")
            let again = try await c.call(.post, "/v1/capacity-requests/\(name)/deny", token: "second")
            #expect(again.status == 409)
            let events = try await c.call(.get, "/v1/events?kind=CapacityRequest&name=\(name)", token: "health-viewer")
            #expect(events.items.map { $0["reason"] as? String } == ["Approved"])
            #expect((events.items.first?["message"] as? String)?.contains("approved by admin: ok") == true)
            #expect(try await c.call(.get, "/v1/events?ministry=finance", token: "health-viewer").status == 403)
            #expect(try await c.call(.get, "/v1/events", token: "finance-admin").items.isEmpty)
            let ministry = try await c.call(.get, "/v1/ministries/health", token: "health-viewer")
            let status = ministry.json["status"] as? [String: Any]
            #expect((status?["effectiveQuota"] as? [String: Any])?["cpu"] as? String == "4")
            let reapplied = try await c.call(.post, "/v1/apply", token: "admin", body: Harness.ministries)
            #expect(reapplied.status == 200)
            let quotas = try await c.call(.get, "/v1/quotas", token: "health-viewer")
            #expect(quotas.items.count == 1)
            #expect((quotas.items.first?["effective"] as? [String: Any])?["cpu"] as? String == "4")
        }
    }

    @Test("a request filed by an operator cannot be approved by that operator")
    func noSelfApproval() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let body = """
                apiVersion: tansiq/v1
                kind: CapacityRequest
                metadata: {name: more, ministry: finance}
                spec: {add: {memory: 1Gi}, reason: tests}
                """
            #expect(try await c.call(.post, "/v1/apply", token: "admin", body: body).status == 200)
            let own = try await c.call(.post, "/v1/capacity-requests/more/approve", token: "admin")
            #expect(own.status == 403)
            #expect(own.errorMessage.contains("another operator"))
            #expect(try await c.call(.post, "/v1/capacity-requests/more/deny", token: "second").status == 200)
            let changed = body.replacingOccurrences(of: "1Gi", with: "2Gi")
            #expect(try await c.call(.post, "/v1/apply", token: "admin", body: changed).status == 409)
        }
    }

    @Test("an operator who changed a pending request cannot approve it; one who did not, can")
    func noApprovalByEditor() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let body = """
                apiVersion: tansiq/v1
                kind: CapacityRequest
                metadata: {name: more, ministry: health}
                spec: {add: {memory: 1Gi}, reason: tests}
                """
            #expect(try await c.call(.post, "/v1/apply", token: "health-admin", body: body).status == 200)
            let changed = body.replacingOccurrences(of: "1Gi", with: "64Gi")
            #expect(try await c.call(.post, "/v1/apply", token: "admin", body: changed).status == 200)
            let own = try await c.call(.post, "/v1/capacity-requests/more/approve", token: "admin")
            #expect(own.status == 403)
            #expect(own.errorMessage.contains("changed CapacityRequest/health/more"), "\(own.body)")
            let request = try await c.call(.get, "/v1/capacity-requests/more", token: "auditor")
            #expect(request.json["status"].flatMap { ($0 as? [String: Any])?["changedBy"] as? [String] } == ["admin"])
            #expect(try await c.call(.post, "/v1/capacity-requests/more/approve", token: "second").status == 200)
        }
    }

    @Test("deleting an application removes its instances; a ministry that owns things cannot be deleted")
    func deletes() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            _ = try await c.call(.post, "/v1/apply", token: "admin", body: Harness.app("health", "portal"))
            #expect(try await c.call(.delete, "/v1/ministries/health", token: "admin").status == 409)
            #expect(
                try await c.call(.delete, "/v1/ministries/health/applications/portal", token: "finance-admin").status
                    == 403)
            #expect(
                try await c.call(.delete, "/v1/ministries/health/applications/portal", token: "health-admin").status
                    == 200)
            #expect((await h.state).instances.isEmpty)
            #expect(
                try await c.call(.delete, "/v1/ministries/health/applications/portal", token: "admin").status == 404)
            #expect(try await c.call(.delete, "/v1/ministries/health", token: "health-admin").status == 403)
            #expect(try await c.call(.delete, "/v1/ministries/health", token: "admin").status == 200)
            #expect(try await c.call(.get, "/v1/ministries/health", token: "admin").status == 404)
        }
    }

    @Test("lists are filtered to what the caller may read")
    func filteredLists() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            _ = try await c.call(.post, "/v1/apply", token: "admin", body: Harness.app("health", "portal"))
            _ = try await c.call(.post, "/v1/apply", token: "admin", body: Harness.app("finance", "ledger"))
            let ministries = try await c.call(.get, "/v1/ministries", token: "health-viewer")
            #expect(ministries.items.map { ($0["metadata"] as? [String: Any])?["name"] as? String } == ["health"])
            let instances = try await c.call(.get, "/v1/instances", token: "health-viewer")
            #expect(instances.items.count == 2)
            #expect(instances.items.allSatisfy { $0["ministry"] as? String == "health" })
            #expect(try await c.call(.get, "/v1/instances?ministry=finance", token: "health-viewer").status == 403)
            #expect(try await c.call(.get, "/v1/instances?phase=Sleeping", token: "admin").status == 400)
            #expect(try await c.call(.get, "/v1/instances", token: "auditor").items.count == 4)
            let apps = try await c.call(.get, "/v1/ministries/finance/applications", token: "finance-admin")
            #expect(apps.items.count == 1)
            #expect((apps.items.first?["status"] as? [String: Any])?["desired"] as? Int == 2)
            #expect(try await c.call(.get, "/v1/capacity", token: "health-viewer").status == 200)
        }
    }

    @Test("the audit log records mutations and refusals, for operators and auditors only")
    func auditLog() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            _ = try await c.call(.post, "/v1/apply", token: "health-viewer", body: Harness.app("health", "x"))
            _ = try await c.call(.post, "/v1/apply", body: Harness.app("health", "x"))
            _ = try await c.call(.get, "/v1/ministries/finance", token: "health-viewer")
            _ = try await c.call(.get, "/v1/quotas", token: "expired")
            #expect(try await c.call(.get, "/v1/audit", token: "health-admin").status == 403)
            let log = try await c.call(.get, "/v1/audit?limit=1000", token: "auditor")
            let items = log.items
            #expect(items.contains { $0["subject"] as? String == "hadi" && $0["result"] as? String == "forbidden" })
            #expect(items.contains { $0["subject"] as? String == "-" && $0["result"] as? String == "unauthenticated" })
            #expect(
                items.contains {
                    $0["action"] as? String == "read" && $0["object"] as? String == "/v1/ministries/finance"
                        && $0["result"] as? String == "forbidden"
                })
            #expect(items.filter { $0["result"] as? String == "unauthenticated" }.count == 2)
            #expect(
                items.filter { $0["subject"] as? String == "hadi" && $0["result"] as? String == "forbidden" }.count
                    == 2,
                "a refused change is audited once")
            #expect(
                items.contains { $0["object"] as? String == "Ministry/health" && $0["result"] as? String == "created" })
            #expect(try await c.call(.get, "/v1/audit?limit=0", token: "auditor").status == 400)
        }
    }
}
