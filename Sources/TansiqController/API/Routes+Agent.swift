import Foundation
import Hummingbird
import Metrics
import TansiqAPI
import TansiqModel

extension Routes {
    /// The agent protocol of DESIGN.md. Join authenticates with a bootstrap token; every other
    /// agent path with the node's client certificate (mTLS on the same port).
    func registerAgent(_ table: inout RouteTable) {
        table.open(.post, "/v1/agent/join") { request, context in
            let token: TokenRecord
            do {
                token = try await bootstrapToken(request, context)
            } catch {
                joinFailed("unauthenticated")
                throw error
            }
            let join: AgentProtocol.JoinRequest
            let certificate: String
            do {
                join = try await API.decode(AgentProtocol.JoinRequest.self, from: request)
                certificate = try NodeCertificates.sign(csrPEM: join.csr, node: join.name, ca: ca, now: now())
            } catch {
                joinFailed("invalid")
                throw error
            }
            let record = AuditRecord(
                time: now(), requestID: context.requestID, subject: "bootstrap:\(token.id)",
                role: Role.bootstrap.rawValue, action: "join", object: "Node/\(join.name)", result: "")
            let now = now()
            do {
                _ = try await cluster.change(audit: record) { registry throws(APIError) in
                    try registry.planJoin(join, token: token, now: now, requestID: context.requestID)
                }
            } catch let error as APIError {
                joinFailed(error.code == .conflict ? "name-taken" : error.code.rawValue)
                throw error
            }
            return try API.json(
                AgentProtocol.Certificates(certificate: certificate, caCertificate: caPEM), status: .created)
        }
        table.open(.post, "/v1/agent/nodes/{name}/renew") { request, context in
            let name = try await node(request, context)
            let body = try await API.decode(AgentProtocol.RenewRequest.self, from: request)
            guard await cluster.current.state.nodes[name] != nil else {
                throw APIError(.notFound, "node \(name) is not in the cluster; it must join again")
            }
            let certificate = try NodeCertificates.sign(csrPEM: body.csr, node: name, ca: ca, now: now())
            try await cluster.record([
                AuditRecord(
                    time: now(), requestID: context.requestID, subject: "node:\(name)", role: "node",
                    action: "renew", object: "Node/\(name)", result: "renewed")
            ])
            return try API.json(AgentProtocol.Certificates(certificate: certificate, caCertificate: caPEM))
        }
        table.open(.put, "/v1/agent/nodes/{name}/status") { request, context in
            let name = try await node(request, context)
            let status = try await API.decode(AgentProtocol.Status.self, from: request)
            Counter(label: "tansiq_agent_status_updates_total").increment()
            let registry = await cluster.current
            // Most statuses change nothing: they are answered from memory, with no write at all.
            if try registry.planStatus(node: name, status) != nil {
                try await cluster.report { registry throws(APIError) in try registry.planStatus(node: name, status) }
            }
            cluster.heartbeats.heard(name, at: now())
            return try API.json(AgentProtocol.StatusAnswer(resourceVersion: registry.state.resourceVersion))
        }
        table.open(.get, "/v1/agent/nodes/{name}/assignments") { request, context in
            let name = try await node(request, context)
            let after = Int64(try request.integer("after", default: 0, in: 0...Int.max))
            let wait = try request.integer("wait", default: 30, in: 0...60)
            guard await cluster.current.state.nodes[name] != nil else {
                throw APIError(.notFound, "node \(name) is not in the cluster; it must join again")
            }
            // Admitted: the wait and the answer come after the routing has returned (`HeldAnswer`).
            return HeldAnswer.response { [self] in
                let version = await cluster.waitForAssignments(node: name, after: after, timeout: .seconds(wait))
                let registry = await cluster.current
                var answer = try deliverSecrets(registry.assignments(of: name, version: version), registry: registry)
                answer.epoch = cluster.epoch
                return try WireJSON.encode(answer, with: WireJSON.encoder())
            }
        }
    }

    /// The bootstrap token of a join, or 401.
    private func bootstrapToken(_ request: Request, _ context: ControllerContext) async throws -> TokenRecord {
        guard let (_, record) = await cluster.current.authenticate(request.bearerToken, now: now()),
            record.role == .bootstrap
        else {
            throw APIError(.unauthenticated, "joining needs a valid bootstrap token (Authorization: Bearer TOKEN)")
        }
        context.caller.set(subject: "bootstrap:\(record.id)", role: Role.bootstrap.rawValue)
        return record
    }

    /// The node the path names, once the client certificate proves the caller is that node (the
    /// caller's own, or the one a fellow controller forwarding for it verified).
    private func node(_ request: Request, _ context: ControllerContext) async throws -> String {
        let name = context.parameter("name")
        guard let peer = await Forwarding.peerNode(request, context) else {
            throw APIError(.unauthenticated, "agent paths need the node's client certificate (mutual TLS)")
        }
        context.caller.set(subject: "node:\(peer)", role: "node")
        guard peer == name else {
            throw APIError(.forbidden, "the client certificate is node \(peer)'s, not node \(name)'s")
        }
        return name
    }

    private func joinFailed(_ reason: String) {
        Counter(label: "tansiq_agent_join_failures_total", dimensions: [("reason", reason)]).increment()
    }

    /// The CA certificate as agents receive it.
    var caPEM: String { (try? ca.certificate.serializeAsPEM().pemString).map { $0 + "\n" } ?? "" }
}
