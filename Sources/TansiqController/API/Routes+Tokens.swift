import Foundation
import Hummingbird
import TansiqModel

extension Routes {
    /// `POST /v1/tokens` body.
    struct TokenRequest: Decodable {
        var subject: String
        var role: String
        var ministry: String?
        var ttl: String?
    }

    /// `POST /v1/bootstrap-tokens` body.
    struct BootstrapRequest: Decodable {
        var ttl: String?
    }

    func registerTokens(_ table: inout RouteTable) {
        table.add(.post, "/v1/tokens") { request, context, caller in
            let body = try await API.decode(TokenRequest.self, from: request)
            let peopleRoles: [Role] = [.operator, .ministryAdmin, .ministryViewer, .auditor, .gateway]
            guard let role = Role(rawValue: body.role), peopleRoles.contains(role) else {
                throw APIError(
                    .invalid, "the token cannot be issued",
                    details: [
                        .init(
                            path: "role",
                            message: "\"\(body.role)\" is not a role; one of "
                                + peopleRoles.map(\.rawValue).joined(separator: ", "))
                    ])
            }
            return try await issue(request, context, caller, subject: body.subject, role: role, body.ministry, body.ttl)
        }
        table.add(.post, "/v1/bootstrap-tokens") { request, context, caller in
            let data = try await API.body(request, limit: 64 << 10)
            var ttl: String?
            if !data.isEmpty {
                do {
                    ttl = try WireJSON.decoder().decode(BootstrapRequest.self, from: data).ttl
                } catch let error as DecodingError {
                    throw APIError(.invalid, "the body is not {\"ttl\": \"24h\"}: \(error.sentence)")
                }
            }
            return try await issue(request, context, caller, subject: "bootstrap", role: .bootstrap, nil, ttl)
        }
        table.add(.get, "/v1/tokens") { _, _, caller in
            try API.list(try await cluster.current.tokens(for: caller))
        }
        table.add(.delete, "/v1/tokens/{id}") { request, context, caller in
            let token = context.parameter("id")
            return try await mutate(request, context, caller, action: "token.revoke", object: "Token/\(token)") {
                registry, now, id throws(APIError) in
                try registry.planRevokeToken(id: token, caller: caller, now: now, requestID: id)
            }
        }
    }

    private func issue(
        _ request: Request, _ context: ControllerContext, _ caller: Caller, subject: String, role: Role,
        _ ministry: String?, _ ttl: String?
    ) async throws -> Response {
        try await mutate(
            request, context, caller, action: "token.create", object: "Token/\(subject)", status: .created
        ) { registry, now, id throws(APIError) in
            try registry.planIssueToken(
                subject: subject, role: role, ministry: ministry, ttl: ttl, caller: caller, now: now, requestID: id)
        }
    }
}
