/// A refusal the API answers with, in DESIGN.md's envelope:
/// `{"error": {"code", "message", "details": [{"path", "line", "column", "message"}]}}`.
public struct APIError: Error, Sendable, Equatable {
    /// The stable codes and their HTTP statuses.
    public enum Code: String, Sendable, Codable {
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

    /// One located problem.
    public struct Detail: Sendable, Equatable, Codable {
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

    /// The code.
    public var code: Code
    /// A sentence for people.
    public var message: String
    /// Located problems, or numbers of a quota refusal.
    public var details: [Detail]
    /// True once the refusal is in the audit log (a refused change audits itself).
    public var audited = false

    /// Creates an error.
    public init(_ code: Code, _ message: String, details: [Detail] = []) {
        self.code = code
        self.message = message
        self.details = details
    }
}
