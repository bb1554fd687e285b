import Foundation
import Hummingbird
import TansiqAPI
import TansiqModel

extension Routes {
    func registerAudit(_ table: inout RouteTable) {
        table.add(.get, "/v1/audit") { request, _, caller in
            try require(Access.canReadAll(caller), caller, "read the audit log")
            let after = try request.integer("after", default: 0, in: 0...Int.max)
            let limit = try request.integer("limit", default: 500, in: 1...5000)
            let items = try await cluster.audit(after: Int64(after), limit: limit)
            return try API.json(AuditPage(items: items, next: items.last?.seq ?? Int64(after)))
        }
        table.add(.get, "/v1/audit/verify") { request, _, caller in
            try require(Access.canReadAll(caller), caller, "verify the audit log")
            let from = try request.integer("from", default: 1, in: 1...Int.max)
            return try API.json(try await cluster.verifyAudit(from: Int64(from), key: ca.key.publicKey))
        }
    }

    func registerHealth(_ table: inout RouteTable) {
        table.open(.get, "/healthz") { _, _ in try API.json(["status": "ok"]) }
        table.open(.get, "/readyz") { _, _ in
            let version = await cluster.current.state.resourceVersion
            return try API.json(
                Readiness(role: .leader, leader: cluster.advertise, epoch: cluster.epoch, resourceVersion: version))
        }
        table.add(.get, "/metrics") { _, _, caller in
            try require(Access.canReadAll(caller), caller, "read metrics")
            // Node phases depend on the clock (NotReady after the grace period): counted at scrape.
            let registry = await cluster.current
            let now = now()
            var phases = Dictionary(uniqueKeysWithValues: NodePhase.allCases.map { ($0, 0) })
            for node in registry.state.nodes.values {
                phases[
                    cluster.heartbeats.view(node, in: registry, now: now).phase, default: 0] +=
                    1
            }
            metrics.nodes(byPhase: phases)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
    }
}
