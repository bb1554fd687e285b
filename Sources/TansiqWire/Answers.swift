import Foundation
import TansiqModel

/// One line of an apply's answer.
public struct ApplyItem: Sendable, Codable, Equatable {
    /// The kind.
    public var kind: String
    /// The owning ministry, for owned kinds.
    public var ministry: String?
    /// The name.
    public var name: String
    /// `created`, `configured` or `unchanged`.
    public var action: String
    /// The object's version after the apply.
    public var resourceVersion: Int64
    /// For an application with an image: the digest its tag resolved to (what its instances run).
    public var imageDigest: String?

    public init(
        kind: String, ministry: String?, name: String, action: String, resourceVersion: Int64,
        imageDigest: String? = nil
    ) {
        self.kind = kind
        self.ministry = ministry
        self.name = name
        self.action = action
        self.resourceVersion = resourceVersion
        self.imageDigest = imageDigest
    }
}

/// `POST /v1/apply` answer.
public struct ApplyResult: Sendable, Codable, Equatable {
    /// One item per document, in order.
    public var items: [ApplyItem]
    /// Things the caller should know that did not stop the apply.
    public var warnings: [String]

    public init(items: [ApplyItem], warnings: [String]) {
        self.items = items
        self.warnings = warnings
    }
}

/// An object that was deleted, decided or changed by an operation.
/// `GET /v1/whoami`: the caller, as its token says.
public struct WhoAmI: Sendable, Codable, Equatable {
    public var subject: String
    public var role: String
    /// The ministry of a ministry role.
    public var ministry: String?

    public init(subject: String, role: String, ministry: String?) {
        self.subject = subject
        self.role = role
        self.ministry = ministry
    }
}

/// `POST /v1/secrets/rotate-key`: how many data keys were wrapped under the new key.
public struct RotationResult: Sendable, Codable, Equatable {
    /// Data keys wrapped again.
    public var rewrapped: Int
    /// Secrets in the cluster.
    public var secrets: Int
    /// The id of the key every data key is wrapped under now.
    public var keyID: String

    public init(rewrapped: Int, secrets: Int, keyID: String) {
        self.rewrapped = rewrapped
        self.secrets = secrets
        self.keyID = keyID
    }
}

public struct ChangeResult: Sendable, Codable, Equatable {
    /// `Kind/ministry/name`.
    public var object: String
    /// `deleted`, `approved`, `denied`, `revoked`, `cordoned`, ...
    public var action: String
    /// The cluster version after the change.
    public var resourceVersion: Int64

    public init(object: String, action: String, resourceVersion: Int64) {
        self.object = object
        self.action = action
        self.resourceVersion = resourceVersion
    }
}

/// `POST /v1/tokens` and `POST /v1/bootstrap-tokens` body.
public struct TokenRequest: Sendable, Codable, Equatable {
    public var subject: String?
    public var role: String?
    public var ministry: String?
    /// `30d`, `12h`, `15m`, `30s`.
    public var ttl: String?

    public init(subject: String? = nil, role: String? = nil, ministry: String? = nil, ttl: String? = nil) {
        self.subject = subject
        self.role = role
        self.ministry = ministry
        self.ttl = ttl
    }
}

/// `POST /v1/tokens` and `POST /v1/bootstrap-tokens` answer; the token is shown once.
public struct IssuedToken: Sendable, Codable, Equatable {
    public var id: String
    public var token: String
    public var expiresAt: Date

    public init(id: String, token: String, expiresAt: Date) {
        self.id = id
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// A token as lists show it: never the secret nor its hash.
public struct TokenView: Sendable, Codable, Equatable {
    public var id: String
    public var subject: String
    public var role: Role
    public var ministry: String?
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?
    public var createdBy: String

    public init(
        id: String, subject: String, role: Role, ministry: String?, createdAt: Date, expiresAt: Date,
        revokedAt: Date?, createdBy: String
    ) {
        self.id = id
        self.subject = subject
        self.role = role
        self.ministry = ministry
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.createdBy = createdBy
    }
}

/// `PATCH /v1/nodes/{name}` body: operator labels (a null value removes one) and taints (the
/// list replaces the node's).
public struct NodePatch: Sendable, Codable, Equatable {
    public var labels: [String: String?]?
    public var taints: [Taint]?

    public init(labels: [String: String?]? = nil, taints: [Taint]? = nil) {
        self.labels = labels
        self.taints = taints
    }
}

/// `POST /v1/capacity-requests/{name}/approve|deny` body.
public struct Decision: Sendable, Codable, Equatable {
    public var comment: String?

    public init(comment: String? = nil) { self.comment = comment }
}

/// `GET /v1/audit` answer: a page of the log and where the next one starts.
public struct AuditPage: Sendable, Codable, Equatable {
    public var items: [AuditRecord]
    public var next: Int64

    public init(items: [AuditRecord], next: Int64) {
        self.items = items
        self.next = next
    }
}

/// `POST /v1/ministries/{m}/applications/{name}/scale` body.
public struct ScaleRequest: Sendable, Codable, Equatable {
    public var replicas: Int

    public init(replicas: Int) { self.replicas = replicas }
}

/// `POST /v1/ministries/{m}/applications/{name}/rollback` body: the generation whose template
/// to apply again (nil: the one before the current).
public struct RollbackRequest: Sendable, Codable, Equatable {
    public var generation: Int64?

    public init(generation: Int64? = nil) { self.generation = generation }
}
