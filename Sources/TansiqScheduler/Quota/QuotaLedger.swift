import TansiqModel

/// How an instance would count against its ministry's share.
public enum QuotaDecision: Sendable, Equatable {
    /// Within the ministry's effective quota.
    case guaranteed
    /// Beyond it, from what other cohort members lend and do not use.
    case borrowed
    /// Neither: the code and the sentence say which bound.
    case refused(PendingReason, String)
}

/// Usage of every ministry, split guaranteed/borrowed, and the rules of DESIGN.md's quota
/// section: guaranteed up to the effective quota; borrowed beyond it up to the borrowing limit
/// and only from capacity other members lend and do not use; `critical` never borrows.
///
/// Pure value: the scheduler, the plan applier and admission share it.
public struct QuotaLedger: Sendable {
    /// Terms by ministry.
    public private(set) var terms: [String: QuotaTerms]
    /// Requests of guaranteed instances by ministry.
    public private(set) var guaranteed: [String: Resources] = [:]
    /// Requests of borrowed instances by ministry.
    public private(set) var borrowed: [String: Resources] = [:]
    /// Members of each cohort.
    public private(set) var cohorts: [String: [String]] = [:]
    /// What depends on the terms alone, worked out once: each cohort's lendable pool (rule 10,
    /// `lendablePool`) and each member's borrowing ceiling.
    private(set) var pools: [String: Resources] = [:]
    private var ceilings: [String: Resources] = [:]

    /// Creates a ledger with no usage.
    public init(_ ministries: [QuotaTerms]) {
        terms = Dictionary(ministries.map { ($0.ministry, $0) }, uniquingKeysWith: { a, _ in a })
        for m in ministries.sorted(by: { $0.ministry < $1.ministry }) {
            if let cohort = m.cohort { cohorts[cohort, default: []].append(m.ministry) }
        }
        for cohort in cohorts.keys {
            pools[cohort] = cohorts[cohort, default: []].reduce(Resources.zero) { $0 + lendingCapacity($1) }
        }
        for ministry in terms.keys { ceilings[ministry] = computeBorrowingCeiling(ministry) }
    }

    /// Whether `request` fits the ministry's own quota as it is used now, at a priority it may use.
    public func fitsQuota(_ ministry: String, _ request: Resources, priority: Priority) -> Bool {
        let t = terms(of: ministry)
        return t.priorities.contains(priority) && (guaranteed[ministry, default: .zero] + request).fits(in: t.quota)
    }

    /// The terms of a ministry (unlimited when unknown).
    public func terms(of ministry: String) -> QuotaTerms { terms[ministry] ?? .unlimited(ministry) }

    /// What a member lends now: its unused quota, capped by its lending limit.
    public func lendable(_ ministry: String) -> Resources {
        let t = terms(of: ministry)
        guard t.cohort != nil else { return .zero }
        let unused = (t.quota - guaranteed[ministry, default: .zero]).nonNegative
        return unused.clamped(to: (t.lendingLimit ?? ResourceLimits()).filled(with: .unlimited))
    }

    /// Everything the cohort's members lend now.
    public func pool(_ cohort: String) -> Resources {
        cohorts[cohort, default: []].reduce(Resources.zero) { $0 + lendable($1) }
    }

    /// Everything the cohort's members borrow now.
    public func borrowedTotal(_ cohort: String) -> Resources {
        cohorts[cohort, default: []].reduce(Resources.zero) { $0 + borrowed[$1, default: .zero] }
    }

    /// The most a ministry may borrow: its borrowing limit, where unnamed the most the other
    /// members could lend (their lending limits, or their quotas where unset). Zero without a cohort.
    public func borrowingCeiling(_ ministry: String) -> Resources {
        ceilings[ministry] ?? computeBorrowingCeiling(ministry)
    }

    private func computeBorrowingCeiling(_ ministry: String) -> Resources {
        let t = terms(of: ministry)
        guard let cohort = t.cohort else { return .zero }
        let others = cohorts[cohort, default: []].filter { $0 != ministry }.map { terms(of: $0) }
        let couldLend = others.reduce(Resources.zero) { sum, o in
            sum + (o.lendingLimit ?? ResourceLimits()).filled(with: o.quota).clamped(to: o.quota)
        }
        return (t.borrowingLimit ?? ResourceLimits()).filled(with: couldLend)
    }

    /// How an instance of `ministry` with `request` and `priority` would count now.
    public func decide(_ ministry: String, _ request: Resources, priority: Priority) -> QuotaDecision {
        let t = terms(of: ministry)
        if !t.priorities.contains(priority) {
            return .refused(.quotaExhausted, "ministry \(ministry) may not use priority \(priority.rawValue)")
        }
        let used = guaranteed[ministry, default: .zero]
        if (used + request).fits(in: t.quota) { return .guaranteed }
        let over = (used + request).exceeded(in: t.quota).map(\.rawValue).joined(separator: ", ")
        guard let cohort = t.cohort else {
            return .refused(
                .quotaExhausted, "quota of \(ministry) exhausted (\(over)) and it has no cohort to borrow from")
        }
        if priority == .critical {
            return .refused(
                .quotaExhausted, "quota of \(ministry) exhausted (\(over)); critical instances never borrow")
        }
        let mine = borrowed[ministry, default: .zero] + request
        if !mine.fits(in: borrowingCeiling(ministry)) {
            return .refused(
                .borrowingLimitReached, "quota of \(ministry) exhausted (\(over)) and its borrowing limit reached")
        }
        let pool = pool(cohort)
        let fromOthers = pool - lendable(ministry)
        if !(borrowedTotal(cohort) + request).fits(in: pool) || !mine.fits(in: fromOthers) {
            return .refused(
                .quotaExhausted,
                "quota of \(ministry) exhausted (\(over)) and cohort \(cohort) has nothing left to lend")
        }
        return .borrowed
    }

    /// Records an instance.
    public mutating func add(_ ministry: String, _ request: Resources, guaranteed isGuaranteed: Bool) {
        if isGuaranteed {
            guaranteed[ministry, default: .zero] += request
        } else {
            borrowed[ministry, default: .zero] += request
        }
    }

    /// Forgets an instance.
    public mutating func remove(_ ministry: String, _ request: Resources, guaranteed isGuaranteed: Bool) {
        if isGuaranteed {
            guaranteed[ministry, default: .zero] -= request
        } else {
            borrowed[ministry, default: .zero] -= request
        }
    }

    /// True when the cohort's borrowers take more than its members lend: a lender has used
    /// its own quota and must get capacity back.
    public func overLent(_ cohort: String) -> Bool {
        let borrowed = borrowedTotal(cohort)
        return borrowed != .zero && !borrowed.fits(in: pool(cohort))
    }

    /// Guaranteed plus borrowed.
    public func usage(_ ministry: String) -> Resources {
        guaranteed[ministry, default: .zero] + borrowed[ministry, default: .zero]
    }
}
