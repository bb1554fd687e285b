import Foundation
import TansiqAPI
import TansiqModel
import TansiqStore

extension TokenView {
    init(_ record: TokenRecord) {
        self.init(
            id: record.id, subject: record.subject, role: record.role, ministry: record.ministry,
            createdAt: record.createdAt, expiresAt: record.expiresAt, revokedAt: record.revokedAt,
            createdBy: record.createdBy)
    }
}

extension Registry {
    /// The caller a bearer token stands for, or nil when it is unknown, expired or revoked.
    public func authenticate(_ token: String, now: Date) -> (Caller, TokenRecord)? {
        guard let id = TokenMint.id(of: token), let record = state.tokens[id], TokenMint.matches(token, record),
            record.isValid(at: now)
        else { return nil }
        return (Caller(subject: record.subject, role: record.role, ministry: record.ministry), record)
    }

    /// Issues a token for a person or system (`role` is one of the four people's roles) or, with
    /// `role == .bootstrap`, for joining agents.
    public func planIssueToken(
        subject: String, role: Role, ministry: String?, ttl: String?, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<IssuedToken> {
        guard Access.isOperator(caller) else { throw APIError(.forbidden, Access.refusal(caller, "issue tokens")) }
        var details: [APIError.Detail] = []
        if subject.isEmpty || subject.count > 253 || subject.contains(where: { $0.isNewline }) {
            details.append(.init(path: "subject", message: "must be 1 to 253 characters on one line"))
        }
        if role.isMinistryRole {
            if let ministry {
                if state.ministries[ministry] == nil {
                    details.append(.init(path: "ministry", message: "ministry \"\(ministry)\" does not exist"))
                }
            } else {
                details.append(.init(path: "ministry", message: "role \(role.rawValue) needs a ministry"))
            }
        } else if ministry != nil {
            details.append(.init(path: "ministry", message: "role \(role.rawValue) is not scoped to a ministry"))
        }
        let defaultTTL = role == .bootstrap ? "24h" : "30d"
        let seconds = TokenTTL.parse(ttl ?? defaultTTL)
        if seconds == nil {
            details.append(
                .init(path: "ttl", message: "\"\(ttl ?? "")\" is not a lifetime like 30d, 12h, 90m or 45s"))
        }
        guard details.isEmpty, let seconds else {
            throw APIError(.invalid, "the token cannot be issued", details: details)
        }
        let (token, record) = TokenMint.mint(
            subject: subject, role: role, ministry: role.isMinistryRole ? ministry : nil, ttl: seconds, now: now,
            createdBy: caller.subject)
        let audit = AuditRecord(
            time: now, requestID: requestID, subject: caller.subject, role: caller.role.rawValue,
            action: "token.create", object: "Token/\(record.id)", result: "created",
            message: "\(role.rawValue) for \(subject)" + (ministry.map { " of \($0)" } ?? ""))
        return Outcome(
            changeset: Changeset(basedOn: state.resourceVersion, mutations: [.putToken(record)], audit: [audit]),
            value: IssuedToken(id: record.id, token: token, expiresAt: record.expiresAt))
    }

    /// Revokes a token; revoking a revoked one changes nothing.
    public func planRevokeToken(
        id: String, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<TokenView> {
        guard Access.isOperator(caller) else { throw APIError(.forbidden, Access.refusal(caller, "revoke tokens")) }
        guard var record = state.tokens[id] else { throw APIError(.notFound, "Token/\(id) does not exist") }
        var mutations: [Mutation] = []
        if record.revokedAt == nil {
            record.revokedAt = RFC3339.truncated(now)
            mutations.append(.putToken(record))
        }
        let audit = AuditRecord(
            time: now, requestID: requestID, subject: caller.subject, role: caller.role.rawValue,
            action: "token.revoke", object: "Token/\(id)", result: mutations.isEmpty ? "unchanged" : "revoked")
        return Outcome(
            changeset: Changeset(basedOn: state.resourceVersion, mutations: mutations, audit: [audit]),
            value: TokenView(record))
    }

    /// Tokens the caller may list (operators and auditors), newest first.
    public func tokens(for caller: Caller) throws(APIError) -> [TokenView] {
        guard Access.canReadAll(caller) else { throw APIError(.forbidden, Access.refusal(caller, "list tokens")) }
        return state.tokens.values.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map(TokenView.init)
    }
}
