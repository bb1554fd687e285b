import Foundation

/// What a bearer token lets its holder do.
public enum Role: String, CaseIterable, Sendable, Codable {
    /// Everything.
    case `operator`
    /// Its own ministry: applications, capacity requests, reads.
    case ministryAdmin = "ministry-admin"
    /// Reads of its own ministry.
    case ministryViewer = "ministry-viewer"
    /// Reads of everything, and the audit log.
    case auditor
    /// Agents' bootstrap tokens: joining nodes only, never the people's API.
    case bootstrap
    /// A gateway: reads the endpoints of exposed applications and reports its own status, nothing else.
    case gateway

    /// True for the roles scoped to one ministry.
    public var isMinistryRole: Bool { self == .ministryAdmin || self == .ministryViewer }
}

/// A token as the controller keeps it: the secret itself is never stored, only its SHA-256.
public struct TokenRecord: Sendable, Hashable, Codable {
    /// Public identifier (also the token's prefix), used to list and revoke it.
    public var id: String
    /// The person or system it was issued to.
    public var subject: String
    /// Its role.
    public var role: Role
    /// The ministry of a ministry role.
    public var ministry: String?
    /// Hex SHA-256 of the whole token.
    public var hash: String
    /// When it was issued.
    public var createdAt: Date
    /// When it stops working.
    public var expiresAt: Date
    /// When it was revoked, if it was.
    public var revokedAt: Date?
    /// Who issued it.
    public var createdBy: String

    /// Creates a record.
    public init(
        id: String, subject: String, role: Role, ministry: String?, hash: String, createdAt: Date, expiresAt: Date,
        revokedAt: Date? = nil, createdBy: String
    ) {
        self.id = id
        self.subject = subject
        self.role = role
        self.ministry = ministry
        self.hash = hash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.createdBy = createdBy
    }

    /// True when the token may be used at `now`.
    public func isValid(at now: Date) -> Bool { revokedAt == nil && now < expiresAt }
}

/// One line of the append-only audit log.
public struct AuditRecord: Sendable, Hashable, Codable {
    /// Position in the log, assigned by the store (0 before it is stored).
    public var seq: Int64
    /// When it happened.
    public var time: Date
    /// The request's id (also in the `X-Request-ID` response header).
    public var requestID: String
    /// Who: a token's subject, a node's name, or `-` when unauthenticated.
    public var subject: String
    /// The caller's role, or `-`.
    public var role: String
    /// What was attempted: `apply`, `delete`, `approve`, `token.create`, ...
    public var action: String
    /// On what: `Application/finance/e-payment`, `Token/ab12cd34`, ...
    public var object: String
    /// `created`, `configured`, `unchanged`, `deleted`, or the error code of a refusal.
    public var result: String
    /// A sentence for refusals.
    public var message: String?
    /// The hash of the record before it in the log (64 zeros for the first), set by the store.
    public var prevHash: String?
    /// SHA-256 of `prevHash` and this record's content (see `AuditChain`), set by the store.
    public var hash: String?

    /// Creates a record.
    public init(
        seq: Int64 = 0, time: Date, requestID: String, subject: String, role: String, action: String, object: String,
        result: String, message: String? = nil, prevHash: String? = nil, hash: String? = nil
    ) {
        self.seq = seq
        self.time = time
        self.requestID = requestID
        self.subject = subject
        self.role = role
        self.action = action
        self.object = object
        self.result = result
        self.message = message
        self.prevHash = prevHash
        self.hash = hash
    }
}

/// One entry of an object's short history (`GET /v1/events`): what happened to it and why.
public struct Event: Sendable, Hashable, Codable {
    /// Position in the history, assigned by the store (0 before it is stored).
    public var seq: Int64
    /// When it happened.
    public var time: Date
    /// The object's kind: `Instance`, `Node`, `Application`, `Ministry`, `CapacityRequest`.
    public var kind: String
    /// The owning ministry, for owned objects.
    public var ministry: String?
    /// The object's name (an instance's id).
    public var name: String
    /// A stable word: `Scheduled`, `Preempted`, `Lost`, `Replaced`, `NotReady`, `Drained`,
    /// `QuotaChanged`, `Approved`, `Denied`, `Expired`, ...
    public var reason: String
    /// A sentence for people.
    public var message: String

    /// Creates an event.
    public init(
        seq: Int64 = 0, time: Date, kind: String, ministry: String? = nil, name: String, reason: String,
        message: String
    ) {
        self.seq = seq
        self.time = time
        self.kind = kind
        self.ministry = ministry
        self.name = name
        self.reason = reason
        self.message = message
    }
}

/// One closed interval during which an instance held resources: the material of showback.
public struct UsageRecord: Sendable, Hashable, Codable {
    public var ministry: String
    public var application: String
    public var instance: String
    /// Within the ministry's quota (guaranteed) or borrowed from its cohort.
    public var guaranteed: Bool
    public var from: Date
    public var to: Date
    public var cpuMillis: Int64
    public var memoryBytes: Int64
    public var storageBytes: Int64

    /// Creates a record.
    public init(
        ministry: String, application: String, instance: String, guaranteed: Bool, from: Date, to: Date,
        cpuMillis: Int64, memoryBytes: Int64, storageBytes: Int64
    ) {
        self.ministry = ministry
        self.application = application
        self.instance = instance
        self.guaranteed = guaranteed
        self.from = from
        self.to = to
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.storageBytes = storageBytes
    }
}

/// One ministry's closed usage over one UTC day, guaranteed and borrowed apart: what closed
/// intervals (`UsageRecord`) are folded into once they are older than the controller's usage
/// detail, so that the history's size depends on ministries and days, not on instances. The sums
/// are exact: each interval's whole seconds (its ends rounded down, as showback counts them)
/// times its request, split at UTC midnights.
public struct UsageDay: Sendable, Hashable, Codable {
    public var ministry: String
    /// The day's start: seconds since 1970, a UTC midnight (a multiple of 86,400).
    public var day: Int64
    public var guaranteed: Bool
    public var cpuMillicoreSeconds: Decimal
    public var memoryByteSeconds: Decimal
    public var storageByteSeconds: Decimal
    public var instanceSeconds: Decimal

    /// Seconds in a day.
    public static let seconds: Int64 = 86_400

    /// Creates a day.
    public init(
        ministry: String, day: Int64, guaranteed: Bool, cpuMillicoreSeconds: Decimal = 0,
        memoryByteSeconds: Decimal = 0, storageByteSeconds: Decimal = 0, instanceSeconds: Decimal = 0
    ) {
        self.ministry = ministry
        self.day = day
        self.guaranteed = guaranteed
        self.cpuMillicoreSeconds = cpuMillicoreSeconds
        self.memoryByteSeconds = memoryByteSeconds
        self.storageByteSeconds = storageByteSeconds
        self.instanceSeconds = instanceSeconds
    }

    /// What identifies a day's row.
    public struct Key: Hashable, Sendable {
        public var ministry: String
        public var day: Int64
        public var guaranteed: Bool
    }

    public var key: Key { Key(ministry: ministry, day: day, guaranteed: guaranteed) }

    /// Adds another day's sums (of the same key).
    public mutating func add(_ other: UsageDay) {
        cpuMillicoreSeconds += other.cpuMillicoreSeconds
        memoryByteSeconds += other.memoryByteSeconds
        storageByteSeconds += other.storageByteSeconds
        instanceSeconds += other.instanceSeconds
    }

    /// A sum as a store keeps it (a decimal integer in text), or nil when the text is not one.
    public static func sum(_ text: String) -> Decimal? {
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit) else { return nil }
        return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
    }

    /// Whole seconds since 1970 of `date`, rounded down: how showback counts an interval's ends.
    public static func second(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }

    /// `records` folded into days, one per ministry, day and kind, in no particular order.
    public static func fold(_ records: some Sequence<UsageRecord>) -> [UsageDay] {
        var days: [Key: UsageDay] = [:]
        for record in records {
            let start = second(record.from)
            let end = second(record.to)
            guard end > start else { continue }
            var day = start - ((start % seconds) + seconds) % seconds
            while day < end {
                let overlap = Decimal(min(end, day + seconds) - max(start, day))
                let key = Key(ministry: record.ministry, day: day, guaranteed: record.guaranteed)
                days[key, default: UsageDay(ministry: record.ministry, day: day, guaranteed: record.guaranteed)].add(
                    UsageDay(
                        ministry: record.ministry, day: day, guaranteed: record.guaranteed,
                        cpuMillicoreSeconds: Decimal(record.cpuMillis) * overlap,
                        memoryByteSeconds: Decimal(record.memoryBytes) * overlap,
                        storageByteSeconds: Decimal(record.storageBytes) * overlap, instanceSeconds: overlap))
                day += seconds
            }
        }
        return Array(days.values)
    }
}

/// `GET /v1/audit/verify` answer: what walking the audit log's hash chain and checkpoint
/// signatures found.
public struct AuditVerification: Sendable, Hashable, Codable {
    /// A record's position and hash: the last one checked, or the last one a log holds.
    public struct Head: Sendable, Hashable, Codable {
        public var seq: Int64
        public var hash: String

        public init(seq: Int64, hash: String) {
            self.seq = seq
            self.hash = hash
        }
    }

    /// The first record found changed, removed or inserted.
    public struct Problem: Sendable, Hashable, Codable {
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
