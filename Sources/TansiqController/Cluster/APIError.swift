import TansiqAPI

/// A refusal the API answers with, in DESIGN.md's envelope:
/// `{"error": {"code", "message", "details": [{"path", "line", "column", "message"}]}}`.
public struct APIError: Error, Sendable, Equatable {
    /// The stable codes and their HTTP statuses.
    public typealias Code = ErrorCode

    /// One located problem.
    public typealias Detail = ErrorDetail

    /// The code.
    public var code: Code
    /// A sentence for people.
    public var message: String
    /// Located problems, or numbers of a quota refusal.
    public var details: [Detail]
    /// True once the refusal is in the audit log (a refused change audits itself).
    public var audited = false
    /// Seconds a client should wait before trying again (429's `Retry-After`).
    public var retryAfter: Int?

    /// Creates an error.
    public init(_ code: Code, _ message: String, details: [Detail] = []) {
        self.code = code
        self.message = message
        self.details = details
    }
}
