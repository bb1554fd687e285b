import Foundation

/// RFC 3339 times, as the wire and the manifests write them.
public enum RFC3339 {
    /// Parses `2027-06-30T00:00:00Z`, with or without fractional seconds, with any offset.
    public static func parse(_ text: String) -> Date? {
        if let date = parseCommon(text) { return date }
        return parsers.withLock { parsers in
            parsers.plain.date(from: text) ?? parsers.fractional.date(from: text)
        }
    }

    /// The form almost every time takes — `YYYY-MM-DDTHH:MM:SS`, up to three digits of a second,
    /// `Z` or `±HH:MM` — read by hand, as a whole number of milliseconds (so that what
    /// `formatMilliseconds` wrote reads back as the very same `Date`); nil for anything else,
    /// which Foundation's parser then judges. ICU's parser costs about 40 µs a time, and a
    /// controller loading 100,000 instances reads 200,000 of them.
    static func parseCommon(_ text: String) -> Date? {
        var utf8 = text.utf8
        return utf8.withContiguousStorageIfAvailable { bytes -> Date? in
            func digits(_ at: Int, _ count: Int) -> Int64? {
                guard at + count <= bytes.count else { return nil }
                var value: Int64 = 0
                for i in at..<(at + count) {
                    let b = bytes[i]
                    guard b >= 0x30 && b <= 0x39 else { return nil }
                    value = value * 10 + Int64(b - 0x30)
                }
                return value
            }
            guard bytes.count >= 20, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54, bytes[13] == 0x3A,
                bytes[16] == 0x3A, let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
                let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
                (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour <= 23, minute <= 59,
                second <= 59
            else { return nil }
            var at = 19
            var millis: Int64 = 0
            if bytes[at] == 0x2E {
                var count = 0
                at += 1
                while at < bytes.count, bytes[at] >= 0x30 && bytes[at] <= 0x39 {
                    guard count < 3 else { return nil }
                    millis = millis * 10 + Int64(bytes[at] - 0x30)
                    count += 1
                    at += 1
                }
                guard count > 0 else { return nil }
                for _ in count..<3 { millis *= 10 }
            }
            var offset: Int64 = 0
            guard at < bytes.count else { return nil }
            if bytes[at] == 0x5A {
                at += 1
            } else if bytes[at] == 0x2B || bytes[at] == 0x2D {
                guard at + 6 == bytes.count, bytes[at + 3] == 0x3A, let hours = digits(at + 1, 2),
                    let minutes = digits(at + 4, 2), hours <= 23, minutes <= 59
                else { return nil }
                offset = (hours * 3600 + minutes * 60) * (bytes[at] == 0x2B ? 1 : -1)
                at += 6
            } else {
                return nil
            }
            guard at == bytes.count else { return nil }
            let seconds =
                daysFromCivil(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second
                - offset
            return Date(timeIntervalSince1970: Double(seconds * 1000 + millis) / 1000)
        } ?? nil
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Formats in UTC with whole seconds: `2027-06-30T00:00:00Z`.
    public static func format(_ date: Date) -> String {
        let (seconds, _) = split(date)
        return written(seconds, millis: nil) ?? civil(seconds) + "Z"
    }

    /// Formats in UTC with milliseconds: `2027-06-30T00:00:00.125Z`.
    public static func formatMilliseconds(_ date: Date) -> String {
        let (seconds, millis) = split(date)
        if let text = written(seconds, millis: millis) { return text }
        let fraction = String(millis)
        return civil(seconds) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction + "Z"
    }

    /// The time of years 0–9999 written digit by digit into one string (the store and the wire
    /// write several for every instance placed); nil outside them, for `civil`'s general form.
    private static func written(_ seconds: Int64, millis: Int64?) -> String? {
        let (year, month, day, secondOfDay) = fields(seconds)
        guard (0...9999).contains(year) else { return nil }
        return String(unsafeUninitializedCapacity: millis == nil ? 20 : 24) { buffer in
            func put(_ value: Int64, _ width: Int, at offset: Int) {
                var rest = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
            }
            put(year, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(day, 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(secondOfDay / 3600, 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(secondOfDay % 3600 / 60, 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, 2, at: 17)
            guard let millis else {
                buffer[19] = UInt8(ascii: "Z")
                return 20
            }
            buffer[19] = UInt8(ascii: ".")
            put(millis, 3, at: 20)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
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
        let (year, month, day, secondOfDay) = fields(seconds)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2) + ":"
            + pad(secondOfDay % 3600 / 60, 2) + ":" + pad(secondOfDay % 60, 2)
    }

    /// Year, month, day and second of the day of a Unix time in UTC.
    private static func fields(_ seconds: Int64) -> (year: Int64, month: Int64, day: Int64, secondOfDay: Int64) {
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
        return (year, month, day, secondOfDay)
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

    private static let parsers: Locked<Parsers> = {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return Locked(Parsers(plain: plain, fractional: fractional))
    }()
}
