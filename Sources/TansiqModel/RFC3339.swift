import Foundation
import Synchronization

/// RFC 3339 times, as the wire and the manifests write them.
public enum RFC3339 {
    /// Parses `2027-06-30T00:00:00Z`, with or without fractional seconds, with any offset.
    public static func parse(_ text: String) -> Date? {
        parsers.withLock { parsers in
            parsers.plain.date(from: text) ?? parsers.fractional.date(from: text)
        }
    }

    /// Formats in UTC with whole seconds: `2027-06-30T00:00:00Z`.
    public static func format(_ date: Date) -> String {
        let (seconds, _) = split(date)
        return civil(seconds) + "Z"
    }

    /// Formats in UTC with milliseconds: `2027-06-30T00:00:00.125Z`.
    public static func formatMilliseconds(_ date: Date) -> String {
        let (seconds, millis) = split(date)
        let fraction = String(millis)
        return civil(seconds) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction + "Z"
    }

    /// `date` rounded to whole milliseconds: what survives a trip through the wire.
    public static func truncated(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    // Formatting by hand: an ISO8601DateFormatter per call costs more than the rest of an API
    // answer (ICU), and one shared formatter would need a lock on every date written.

    private static func split(_ date: Date) -> (seconds: Int64, millis: Int64) {
        let total = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = total >= 0 ? total / 1000 : (total - 999) / 1000
        return (seconds, total - seconds * 1000)
    }

    /// `YYYY-MM-DDTHH:MM:SS` of a Unix time in UTC (proleptic Gregorian, days-from-civil inverse).
    private static func civil(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2) + ":"
            + pad(secondOfDay % 3600 / 60, 2) + ":" + pad(secondOfDay % 60, 2)
    }

    private static func pad(_ n: Int64, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// Parsing keeps Foundation's ISO 8601 parser (what the manifest schema agrees with), one
    /// shared pair behind a lock.
    private struct Parsers: @unchecked Sendable {
        let plain: ISO8601DateFormatter
        let fractional: ISO8601DateFormatter
    }

    private static let parsers: Mutex<Parsers> = {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return Mutex(Parsers(plain: plain, fractional: fractional))
    }()
}
