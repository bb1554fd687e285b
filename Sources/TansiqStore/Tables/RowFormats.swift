import Foundation

/// How many events every backend keeps in all: the oldest are pruned beyond it.
public enum EventsCapacity {
    /// The default of `run --max-events`: how many events a store keeps (the newest).
    public static let rows: Int64 = 100_000
}

/// Usage times as every backend stores them: integer milliseconds since 1970, so that overlaps
/// are computed exactly.
enum UsageMilliseconds {
    static func of(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
