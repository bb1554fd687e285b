import TansiqModel

/// A ministry's weighted dominant share of its cohort's lendable pool (DESIGN.md, rule 10),
/// exactly: `share(m) = max over r with pool(C)_r > 0 of borrowed(m)_r / pool(C)_r, divided by
/// weight(m)`. A non-negative rational, compared without rounding; weights are read to the
/// thousandth (the manifest allows no finer), so every share is `borrowed · 1000 / (pool · w‰)`.
public struct FairShare: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// numerator / denominator, denominator > 0.
    let numerator: UInt128
    let denominator: UInt128

    /// No borrowing.
    public static let zero = FairShare(numerator: 0, denominator: 1)

    init(numerator: UInt128, denominator: UInt128) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The share of `borrowed` in `pool` for a ministry of weight `weightMillis` (thousandths).
    public init(borrowed: Resources, pool: Resources, weightMillis: Int64) {
        var best = FairShare.zero
        for dim in Resources.Dimension.allCases {
            let b = max(0, borrowed[dim])
            let p = pool[dim]
            guard p > 0 else { continue }
            let share = FairShare(
                numerator: UInt128(b) * 1000, denominator: UInt128(p) * UInt128(max(1, weightMillis)))
            if share > best { best = share }
        }
        self = best
    }

    /// ×1000, rounded down: `status.fairShare`.
    public var perMille: Int64 {
        let value = numerator * 1000 / denominator
        return value > UInt128(Int64.max) ? Int64.max : Int64(value)
    }

    public var description: String { "\(perMille)‰" }

    /// a/b < c/d by continued fractions: integer parts first, then the inverted remainders; no
    /// product, so no overflow whatever the sizes.
    public static func < (lhs: FairShare, rhs: FairShare) -> Bool { compare(lhs, rhs) < 0 }

    public static func == (lhs: FairShare, rhs: FairShare) -> Bool { compare(lhs, rhs) == 0 }

    public func hash(into hasher: inout Hasher) {
        // Equal fractions hash alike: reduce by the greatest common divisor.
        var a = numerator
        var b = denominator
        while b != 0 { (a, b) = (b, a % b) }
        hasher.combine(numerator / a)
        hasher.combine(denominator / a)
    }

    static func compare(_ x: FairShare, _ y: FairShare) -> Int {
        var (a, b, c, d) = (x.numerator, x.denominator, y.numerator, y.denominator)
        var sign = 1
        while true {
            let (p, q) = (a / b, c / d)
            if p != q { return p < q ? -sign : sign }
            let (r, s) = (a % b, c % d)
            if r == 0 || s == 0 {
                if r == s { return 0 }
                return (r == 0 ? -1 : 1) * sign
            }
            // r/b vs s/d  ⇔  d/s vs b/r, reversed.
            (a, b, c, d) = (b, r, d, s)
            sign = -sign
        }
    }
}

extension QuotaTerms {
    /// The weight in thousandths.
    public var weightMillis: Int64 { Int64((weight * 1000).rounded()) }
}

extension QuotaLedger {
    /// What a member may lend at most (DESIGN rule 10): `min(effectiveQuota, lendingLimit)`;
    /// nothing without a cohort.
    public func lendingCapacity(_ ministry: String) -> Resources {
        let t = terms(of: ministry)
        guard t.cohort != nil else { return .zero }
        return (t.lendingLimit ?? ResourceLimits()).filled(with: t.quota).clamped(to: t.quota)
    }

    /// The cohort's lendable pool: its members' lending capacities.
    public func lendablePool(_ cohort: String) -> Resources { pools[cohort] ?? .zero }

    /// A ministry's fair share now, or with `borrowed` as its borrowed total.
    public func fairShare(_ ministry: String, borrowed: Resources? = nil) -> FairShare {
        let t = terms(of: ministry)
        guard let cohort = t.cohort else { return .zero }
        return FairShare(
            borrowed: borrowed ?? self.borrowed[ministry, default: .zero], pool: lendablePool(cohort),
            weightMillis: t.weightMillis)
    }
}
