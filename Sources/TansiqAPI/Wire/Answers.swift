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

/// `GET /v1/audit/verify` answer: what walking the audit log's hash chain and checkpoint
/// signatures found.
public struct AuditVerification: Sendable, Codable, Equatable {
    /// The last record checked: its position and hash.
    public struct Head: Sendable, Codable, Equatable {
        public var seq: Int64
        public var hash: String

        public init(seq: Int64, hash: String) {
            self.seq = seq
            self.hash = hash
        }
    }

    /// The first record found changed, removed or inserted.
    public struct Problem: Sendable, Codable, Equatable {
        /// `changed`, `removed` or `inserted`.
        public var kind: String
        public var seq: Int64
        public var message: String

        public init(kind: String, seq: Int64, message: String) {
            self.kind = kind
            self.seq = seq
            self.message = message
        }
    }

    /// True when the chain and every checkpoint verified.
    public var ok: Bool
    /// The first record checked.
    public var from: Int64
    /// How many records were checked (up to the problem, when there is one).
    public var checked: Int
    public var head: Head?
    /// How many checkpoint signatures verified.
    public var checkpoints: Int
    /// The last record a verified checkpoint signed (0: none).
    public var signedThrough: Int64
    /// Records after `signedThrough`, protected by the chain alone until the next checkpoint.
    public var unsigned: Int64
    public var problem: Problem?

    public init(
        ok: Bool, from: Int64, checked: Int, head: Head?, checkpoints: Int, signedThrough: Int64, unsigned: Int64,
        problem: Problem?
    ) {
        self.ok = ok
        self.from = from
        self.checked = checked
        self.head = head
        self.checkpoints = checkpoints
        self.signedThrough = signedThrough
        self.unsigned = unsigned
        self.problem = problem
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
