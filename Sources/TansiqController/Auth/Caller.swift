import TansiqModel

/// Who is calling: what their token says.
public struct Caller: Sendable, Hashable {
    /// The token's subject.
    public var subject: String
    /// The token's role.
    public var role: Role
    /// The ministry of a ministry role.
    public var ministry: String?

    /// Creates a caller.
    public init(subject: String, role: Role, ministry: String? = nil) {
        self.subject = subject
        self.role = role
        self.ministry = ministry
    }
}

/// The role rules of DESIGN.md, as pure checks. `operator`: everything; `ministry-admin`: its own
/// ministry's applications and capacity requests, and reads of its ministry; `ministry-viewer`:
/// reads of its ministry; `auditor`: reads of everything and the audit log. Nodes and capacity
/// are readable by everyone authenticated.
public enum Access {
    /// May read objects of `ministry`.
    public static func canRead(_ caller: Caller, ministry: String) -> Bool {
        switch caller.role {
        case .operator, .auditor: true
        case .ministryAdmin, .ministryViewer: caller.ministry == ministry
        case .bootstrap, .gateway: false
        }
    }

    /// May read everything of every ministry (and the audit log, metrics, tokens).
    public static func canReadAll(_ caller: Caller) -> Bool { caller.role == .operator || caller.role == .auditor }

    /// May read cluster-wide facts: nodes, capacity.
    public static func canReadCluster(_ caller: Caller) -> Bool { caller.role != .bootstrap && caller.role != .gateway }

    /// May create, change or delete an object of `kind` owned by `ministry` (nil for a Ministry).
    public static func canWrite(_ caller: Caller, kind: Kind, ministry: String?) -> Bool {
        switch caller.role {
        case .operator: true
        case .ministryAdmin: kind != .ministry && ministry != nil && caller.ministry == ministry
        case .ministryViewer, .auditor, .bootstrap, .gateway: false
        }
    }

    /// May read the endpoints of `app`: its ministry, the ministries it names as consumers,
    /// operators and auditors, and gateways for the applications it exposes.
    public static func canReadEndpoints(_ caller: Caller, of app: Application) -> Bool {
        switch caller.role {
        case .operator, .auditor: true
        case .ministryAdmin, .ministryViewer:
            caller.ministry == app.metadata.ministry
                || (caller.ministry.map { (app.spec.consumers ?? []).contains($0) } ?? false)
        case .gateway: !(app.spec.expose ?? []).isEmpty
        case .bootstrap: false
        }
    }

    /// May change the cluster itself: tokens, capacity decisions, nodes.
    public static func isOperator(_ caller: Caller) -> Bool { caller.role == .operator }

    /// The sentence of a refusal.
    static func refusal(_ caller: Caller, _ what: String) -> String {
        let scope = caller.ministry.map { " of ministry \($0)" } ?? ""
        return "\(caller.subject) (\(caller.role.rawValue)\(scope)) may not \(what)"
    }
}
