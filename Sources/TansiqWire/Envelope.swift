import Foundation

/// The stable error codes of DESIGN.md and the HTTP status of each.
public enum ErrorCode: String, Sendable, Codable, CaseIterable {
    case invalid
    case unauthenticated
    case forbidden
    case notFound = "not-found"
    case conflict
    case tooLarge = "too-large"
    case quotaExceeded = "quota-exceeded"
    /// An image that cannot be resolved to a digest (422).
    case imageUnavailable = "image-unavailable"
    case rateLimited = "rate-limited"
    case unavailable

    /// The HTTP status.
    public var status: Int {
        switch self {
        case .invalid: 400
        case .unauthenticated: 401
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .tooLarge: 413
        case .quotaExceeded, .imageUnavailable: 422
        case .rateLimited: 429
        case .unavailable: 503
        }
    }
}

/// One located problem of an error answer.
public struct ErrorDetail: Sendable, Hashable, Codable {
    /// Where in the body: `documents[1].spec.replicas`.
    public var path: String?
    /// Line within the body.
    public var line: Int?
    /// Column within the body.
    public var column: Int?
    /// What is wrong.
    public var message: String

    /// Creates a detail.
    public init(path: String? = nil, line: Int? = nil, column: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }
}

/// Every error answer: `{"error": {"code", "message", "details"}}`.
public struct ErrorEnvelope: Sendable, Hashable, Codable {
    /// The error.
    public struct Body: Sendable, Hashable, Codable {
        /// The stable code, as sent (a code this client does not know stays readable).
        public var code: String
        public var message: String
        public var details: [ErrorDetail]

        public init(code: String, message: String, details: [ErrorDetail]) {
            self.code = code
            self.message = message
            self.details = details
        }
    }

    public var error: Body

    public init(error: Body) { self.error = error }
}

/// `{"items": [...]}`: every list answer.
public struct ItemList<Item: Sendable & Codable>: Sendable, Codable {
    public var items: [Item]
    /// The cluster's version when the list was read (lists that can be watched carry it).
    public var resourceVersion: Int64?

    public init(items: [Item], resourceVersion: Int64? = nil) {
        self.items = items
        self.resourceVersion = resourceVersion
    }
}

/// `GET /readyz`: the controller can serve, as the leader or as a follower that forwards to it.
public struct Readiness: Sendable, Hashable, Codable {
    /// `leader` or `follower`.
    public enum Role: String, Sendable, Hashable, Codable {
        case leader, follower
    }

    /// `ready`.
    public var status: String
    public var role: Role
    /// The leader's advertised URL.
    public var leader: String
    /// The leadership term.
    public var epoch: Int64
    /// The cluster's version (the leader's answer only).
    public var resourceVersion: Int64?

    public init(status: String = "ready", role: Role, leader: String, epoch: Int64, resourceVersion: Int64? = nil) {
        self.status = status
        self.role = role
        self.leader = leader
        self.epoch = epoch
        self.resourceVersion = resourceVersion
    }
}
