/// An application's priority. Higher priorities are placed first and may evict lower ones of the
/// same ministry; `critical` instances never borrow and are never evicted.
public enum Priority: String, CaseIterable, Sendable, Codable, Comparable {
    case critical, high, standard, batch

    /// Larger is more important: critical 3, high 2, standard 1, batch 0.
    public var rank: Int {
        switch self {
        case .critical: 3
        case .high: 2
        case .standard: 1
        case .batch: 0
        }
    }

    /// What a ministry may use when its manifest does not say: all but `critical`.
    public static let defaultAllowed: [Priority] = [.high, .standard, .batch]

    /// Orders by rank, so `batch < critical`.
    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rank < rhs.rank }
}
