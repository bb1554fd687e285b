import Foundation
import Hummingbird
import TansiqModel
import TansiqRegistry

/// Every route of the API, registered in one place. Handlers decode, call the cluster, encode:
/// no business rule lives here. The table of registered routes is what the OpenAPI test checks.
public struct Routes: Sendable {
    let cluster: Cluster
    let metrics: ControllerMetrics
    /// Signs node certificates.
    let ca: CertificateAuthority
    /// Resolves `spec.image` tags to digests at apply.
    let registry: RegistryClient
    /// Holds back addresses that keep failing to authenticate.
    let throttle: AuthThrottle
    /// Seals and opens secrets' values.
    let keyring: SecretsKeyring
    let now: @Sendable () -> Date

    /// A route: method and path template as the OpenAPI document writes it.
    public struct Entry: Sendable, Hashable {
        public var method: String
        public var path: String
    }

    typealias Handler = @Sendable (Request, ControllerContext, Caller) async throws -> Response
    typealias OpenHandler = @Sendable (Request, ControllerContext) async throws -> Response

    /// Registers every route on `router`; returns the table of what was registered.
    @discardableResult
    func register(on router: Router<ControllerContext>) -> [Entry] {
        var table = RouteTable(router: router, routes: self)
        registerHealth(&table)
        registerApply(&table)
        registerMinistries(&table)
        registerInstances(&table)
        registerCapacityRequests(&table)
        registerQuotas(&table)
        registerTokens(&table)
        registerAudit(&table)
        registerNodes(&table)
        registerEvents(&table)
        registerUsage(&table)
        registerSnapshot(&table)
        registerAgent(&table)
        registerSecrets(&table)
        registerUI(&table)
        registerEndpoints(&table)
        registerLogs(&table)
        return table.entries
    }

    /// The caller of a request, or 401. A refused mutation is audited.
    func authenticate(_ request: Request, _ context: ControllerContext) async throws -> Caller {
        let token = request.bearerToken
        if !token.isEmpty, let (caller, _) = await cluster.current.authenticate(token, now: now()),
            caller.role != .bootstrap
        {
            context.caller.set(caller)
            return caller
        }
        // The refusal is audited by `APIMiddleware`, like every refusal no change has audited.
        let address = await Forwarding.sourceAddress(request, context)
        if case .throttled(let retryAfter, let audit) = throttle.failed(from: address, at: now()) {
            var error = APIError(
                .rateLimited,
                "too many failed authentications from \(address); retry in \(retryAfter) s with a valid token")
            error.retryAfter = retryAfter
            // Audited once per window, not per attempt.
            error.audited = !audit
            throw error
        }
        throw token.isEmpty
            ? APIError(.unauthenticated, "a bearer token is required (Authorization: Bearer TOKEN)")
            : APIError(.unauthenticated, "the token is unknown, expired or revoked")
    }

    /// The audit record of a request by `caller` (nil: unauthenticated), before its result is known.
    func audit(
        _ request: Request, _ context: ControllerContext, _ caller: Caller?, action: String, object: String? = nil
    ) -> AuditRecord {
        AuditRecord(
            time: now(), requestID: context.requestID, subject: caller?.subject ?? "-",
            role: caller?.role.rawValue ?? "-", action: action, object: object ?? request.uri.path, result: "")
    }

    /// Runs one change through the cluster (refusals audited) and answers its value as JSON.
    /// `plan` gets the registry, the request's time and its id.
    func mutate<Value: Encodable & Sendable>(
        _ request: Request, _ context: ControllerContext, _ caller: Caller, action: String, object: String,
        status: HTTPResponse.Status = .ok, dryRun: Bool = false,
        _ plan: @escaping @Sendable (Registry, Date, String) throws(APIError) -> Registry.Outcome<Value>
    ) async throws -> Response {
        let now = now()
        let requestID = context.requestID
        let value = try await cluster.change(
            audit: audit(request, context, caller, action: action, object: object), dryRun: dryRun
        ) { registry throws(APIError) in
            try plan(registry, now, requestID)
        }
        return try API.json(value, status: status)
    }

    /// 403 unless `allowed`.
    func require(_ allowed: Bool, _ caller: Caller, _ what: String) throws {
        if !allowed { throw APIError(.forbidden, Access.refusal(caller, what)) }
    }
}

/// Registers routes and remembers them.
struct RouteTable {
    let router: Router<ControllerContext>
    let routes: Routes
    private(set) var entries: [Routes.Entry] = []

    init(router: Router<ControllerContext>, routes: Routes) {
        self.router = router
        self.routes = routes
    }

    /// A route that needs a bearer token. A gateway's token is refused (403) on every route but
    /// those registered with `gateway: true`.
    mutating func add(
        _ method: HTTPRequest.Method, _ path: String, gateway: Bool = false, _ handler: @escaping Routes.Handler
    ) {
        let routes = self.routes
        open(method, path) { request, context in
            let caller = try await routes.authenticate(request, context)
            if caller.role == .gateway && !gateway {
                throw APIError(.forbidden, "a gateway's token reads endpoints and reports its status, nothing else")
            }
            return try await handler(request, context, caller)
        }
    }

    /// A route anyone may call.
    mutating func open(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Routes.OpenHandler) {
        entries.append(Routes.Entry(method: method.rawValue, path: path))
        router.on(RouterPath(path), method: method) { request, context in try await handler(request, context) }
    }
}

extension AuditRecord {
    /// This record with its outcome.
    func with(result: String, message: String? = nil) -> AuditRecord {
        var copy = self
        copy.result = result
        copy.message = message
        return copy
    }
}

extension Request {
    /// The token of `Authorization: Bearer TOKEN`, or "" without one.
    var bearerToken: String {
        let header = headers[.authorization] ?? ""
        return header.hasPrefix("Bearer ") ? String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces) : ""
    }

    /// A query parameter, or nil when absent or empty.
    func query(_ name: String) -> String? {
        guard let value = uri.queryParameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    /// A boolean query parameter: absent is false; anything but true/false is 400.
    func flag(_ name: String) throws -> Bool {
        switch query(name) {
        case nil, "false": return false
        case "true": return true
        case let other?: throw APIError(.invalid, "?\(name)=\(other): must be true or false")
        }
    }

    /// An integer query parameter within `range`.
    func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = query(name) else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw APIError(
                .invalid, "?\(name)=\(text): must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }
}

extension ControllerContext {
    /// A path parameter the route template guarantees.
    func parameter(_ name: String) -> String { parameters.get(name) ?? "" }
}
