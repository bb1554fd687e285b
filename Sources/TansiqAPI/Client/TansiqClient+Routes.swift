import Foundation
import NIOCore
import NIOHTTP1
import TansiqModel

/// The people's API, one function per route (DESIGN.md's "Paths").
extension TansiqClient {
    private static func e(_ text: String) -> String { escape(text) }

    /// `POST /v1/apply` of a YAML stream.
    public func apply(yaml: String, dryRun: Bool = false) async throws -> ApplyResult {
        try await call(
            .POST, "/v1/apply" + (dryRun ? "?dryRun=true" : ""), body: Data(yaml.utf8), contentType: "application/yaml")
    }

    /// `POST /v1/plan`: what applying the manifests would do now, without doing it.
    public func plan(yaml: String) async throws -> PlanResult {
        try await call(.POST, "/v1/plan", body: Data(yaml.utf8), contentType: "application/yaml")
    }

    public func ministries(labelSelector: String? = nil) async throws -> ItemList<Ministry> {
        try await call(.GET, "/v1/ministries" + Self.query([("labelSelector", labelSelector)]))
    }

    public func ministry(_ name: String) async throws -> Ministry {
        try await call(.GET, "/v1/ministries/\(Self.e(name))")
    }

    public func applications(ministry: String, labelSelector: String? = nil) async throws -> ItemList<Application> {
        try await call(
            .GET, "/v1/ministries/\(Self.e(ministry))/applications" + Self.query([("labelSelector", labelSelector)]))
    }

    public func application(ministry: String, name: String) async throws -> Application {
        try await call(.GET, "/v1/ministries/\(Self.e(ministry))/applications/\(Self.e(name))")
    }

    /// The templates the application keeps, oldest first.
    public func revisions(ministry: String, name: String) async throws -> ItemList<Revision> {
        try await call(.GET, "/v1/ministries/\(Self.e(ministry))/applications/\(Self.e(name))/revisions")
    }

    public func scale(ministry: String, name: String, replicas: Int) async throws -> ApplyResult {
        try await call(
            .POST, "/v1/ministries/\(Self.e(ministry))/applications/\(Self.e(name))/scale",
            json: ScaleRequest(replicas: replicas))
    }

    public func rollback(ministry: String, name: String, to generation: Int64? = nil) async throws -> ApplyResult {
        try await call(
            .POST, "/v1/ministries/\(Self.e(ministry))/applications/\(Self.e(name))/rollback",
            json: RollbackRequest(generation: generation))
    }

    public func deleteApplication(ministry: String, name: String) async throws -> ChangeResult {
        try await call(.DELETE, "/v1/ministries/\(Self.e(ministry))/applications/\(Self.e(name))")
    }

    /// `GET /v1/ministries/{m}/secrets`: names, keys, sizes and versions, never values.
    public func secrets(ministry: String) async throws -> ItemList<SecretView> {
        try await call(.GET, "/v1/ministries/\(Self.e(ministry))/secrets")
    }

    /// `DELETE /v1/ministries/{m}/secrets/{name}[?force=true]`.
    public func deleteSecret(ministry: String, name: String, force: Bool = false) async throws -> ChangeResult {
        try await call(
            .DELETE, "/v1/ministries/\(Self.e(ministry))/secrets/\(Self.e(name))" + (force ? "?force=true" : ""))
    }

    /// `POST /v1/secrets/rotate-key`: every data key wrapped under the key prepared beside the leader.
    public func rotateSecretsKey() async throws -> RotationResult {
        try await call(.POST, "/v1/secrets/rotate-key", body: Data("{}".utf8))
    }

    public func deleteMinistry(_ name: String) async throws -> ChangeResult {
        try await call(.DELETE, "/v1/ministries/\(Self.e(name))")
    }

    /// `GET /v1/instances` with the filters that are set.
    public func instances(
        ministry: String? = nil, application: String? = nil, node: String? = nil, phase: String? = nil,
        labelSelector: String? = nil
    ) async throws -> ItemList<Instance> {
        try await call(
            .GET,
            "/v1/instances"
                + Self.query([
                    ("ministry", ministry), ("application", application), ("node", node), ("phase", phase),
                    ("labelSelector", labelSelector),
                ]))
    }

    /// `GET /v1/instances/{id}/logs`: the instance's output, its last `tail` lines or those
    /// written after `since`, handed to `receive` as it arrives; with `follow`, until the
    /// instance leaves its node (or `timeout`).
    public func logs(
        instance: String, tail: Int? = nil, since: Date? = nil, follow: Bool = false,
        timeout: TimeAmount = .seconds(60), receive: (ByteBuffer) async throws -> Void
    ) async throws {
        let query = Self.query([
            ("tail", tail.map(String.init)), ("since", since.map(RFC3339.formatMilliseconds)),
            ("follow", follow ? "true" : nil),
        ])
        try await stream("/v1/instances/\(Self.e(instance))/logs" + query, timeout: timeout, receive: receive)
    }

    /// `GET /v1/endpoints`: with `after`, a long poll answered once the endpoints version passes
    /// it (or after `wait` seconds).
    public func endpoints(
        ministry: String? = nil, application: String? = nil, after: Int64? = nil, wait: Int = 30
    ) async throws -> EndpointsList {
        try await call(
            .GET,
            "/v1/endpoints"
                + Self.query([
                    ("ministry", ministry), ("application", application), ("after", after.map { String($0) }),
                    ("wait", after == nil ? nil : String(wait)),
                ]),
            timeout: .seconds(Int64(wait) + 15))
    }

    /// `PUT /v1/gateways/{name}/status`: the endpoints version a gateway has applied.
    public func reportGateway(name: String, endpointsVersion: Int64) async throws -> GatewayView {
        try await call(
            .PUT, "/v1/gateways/\(Self.e(name))/status", json: GatewayStatus(endpointsVersion: endpointsVersion))
    }

    /// `GET /v1/gateways`.
    public func gateways() async throws -> ItemList<GatewayView> { try await call(.GET, "/v1/gateways") }

    public func nodes(labelSelector: String? = nil) async throws -> ItemList<Node> {
        try await call(.GET, "/v1/nodes" + Self.query([("labelSelector", labelSelector)]))
    }

    public func node(_ name: String) async throws -> Node { try await call(.GET, "/v1/nodes/\(Self.e(name))") }

    public func patchNode(_ name: String, _ patch: NodePatch) async throws -> ChangeResult {
        try await call(.PATCH, "/v1/nodes/\(Self.e(name))", json: patch)
    }

    /// `POST /v1/nodes/{name}/cordon|uncordon|drain`.
    public func nodeAction(_ name: String, _ action: String) async throws -> ChangeResult {
        try await call(.POST, "/v1/nodes/\(Self.e(name))/\(action)")
    }

    public func deleteNode(_ name: String) async throws -> ChangeResult {
        try await call(.DELETE, "/v1/nodes/\(Self.e(name))")
    }

    public func capacityRequests(labelSelector: String? = nil) async throws -> ItemList<CapacityRequest> {
        try await call(.GET, "/v1/capacity-requests" + Self.query([("labelSelector", labelSelector)]))
    }

    public func capacityRequest(_ name: String) async throws -> CapacityRequest {
        try await call(.GET, "/v1/capacity-requests/\(Self.e(name))")
    }

    public func fileCapacityRequest(_ request: CapacityRequest) async throws -> CapacityRequest {
        try await call(.POST, "/v1/capacity-requests", json: request)
    }

    /// `POST /v1/capacity-requests/{name}/approve|deny`.
    public func decide(_ name: String, approve: Bool, comment: String?) async throws -> ChangeResult {
        try await call(
            .POST, "/v1/capacity-requests/\(Self.e(name))/\(approve ? "approve" : "deny")",
            json: Decision(comment: comment))
    }

    public func deleteCapacityRequest(_ name: String) async throws -> ChangeResult {
        try await call(.DELETE, "/v1/capacity-requests/\(Self.e(name))")
    }

    public func quotas() async throws -> QuotaReport { try await call(.GET, "/v1/quotas") }

    public func capacity() async throws -> CapacityReport { try await call(.GET, "/v1/capacity") }

    public func usage(from: Date? = nil, to: Date? = nil) async throws -> UsageReport {
        try await call(
            .GET, "/v1/usage" + Self.query([("from", from.map(RFC3339.format)), ("to", to.map(RFC3339.format))]))
    }

    /// `GET /v1/usage?format=csv`.
    public func usageCSV(from: Date? = nil, to: Date? = nil) async throws -> String {
        let response = try await send(
            .GET,
            "/v1/usage"
                + Self.query([
                    ("from", from.map(RFC3339.format)), ("to", to.map(RFC3339.format)), ("format", "csv"),
                ]))
        try Self.check(response)
        return response.text
    }

    public func events(
        kind: String? = nil, ministry: String? = nil, name: String? = nil, limit: Int? = nil
    ) async throws -> ItemList<Event> {
        try await call(
            .GET,
            "/v1/events"
                + Self.query([
                    ("kind", kind), ("ministry", ministry), ("name", name), ("limit", limit.map(String.init)),
                ]))
    }

    public func audit(after: Int64 = 0, limit: Int = 500) async throws -> AuditPage {
        try await call(.GET, "/v1/audit?after=\(after)&limit=\(limit)")
    }

    public func verifyAudit(from: Int64 = 1) async throws -> AuditVerification {
        try await call(.GET, "/v1/audit/verify?from=\(from)")
    }

    public func tokens() async throws -> ItemList<TokenView> { try await call(.GET, "/v1/tokens") }

    public func issueToken(_ request: TokenRequest, bootstrap: Bool = false) async throws -> IssuedToken {
        try await call(.POST, bootstrap ? "/v1/bootstrap-tokens" : "/v1/tokens", json: request)
    }

    public func revokeToken(_ id: String) async throws -> ChangeResult {
        try await call(.DELETE, "/v1/tokens/\(Self.e(id))")
    }

    public func snapshot() async throws -> ClusterSnapshot { try await call(.GET, "/v1/snapshot") }

    public func readiness() async throws -> Readiness { try await call(.GET, "/readyz") }
}

/// The agent protocol (DESIGN.md's "Wire protocol"), for any agent.
extension TansiqClient {
    /// `POST /v1/agent/join` (the client's token is the bootstrap token).
    public func join(_ request: AgentProtocol.JoinRequest) async throws -> AgentProtocol.Certificates {
        try await call(.POST, "/v1/agent/join", json: request)
    }

    /// `PUT /v1/agent/nodes/{name}/status`.
    public func report(
        node: String, _ status: AgentProtocol.Status, timeout: TimeAmount = .seconds(15)
    ) async throws
        -> AgentProtocol.StatusAnswer
    {
        try await call(.PUT, "/v1/agent/nodes/\(Self.escape(node))/status", json: status, timeout: timeout)
    }

    /// `GET /v1/agent/nodes/{name}/assignments?after=RV&wait=S`: the node's desired set once
    /// newer than `after`, or after `wait` seconds.
    public func assignments(node: String, after: Int64, wait: Int) async throws -> AgentProtocol.Assignments {
        try await call(
            .GET, "/v1/agent/nodes/\(Self.escape(node))/assignments?after=\(after)&wait=\(wait)",
            timeout: .seconds(Int64(wait) + 10))
    }

    /// `POST /v1/agent/nodes/{name}/renew`.
    public func renew(node: String, csr: String) async throws -> AgentProtocol.Certificates {
        try await call(
            .POST, "/v1/agent/nodes/\(Self.escape(node))/renew", json: AgentProtocol.RenewRequest(csr: csr),
            timeout: .seconds(15))
    }
}
