/// A duration in whole milliseconds, written `500ms`, `5s`, `2m`, `1h` or a combination (`1h30m`).
///
/// The canonical form uses the largest single unit that divides exactly (`90s` is `90s`, `120s`
/// is `2m`), so it round-trips. On the wire it is that string.
public struct Span: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds.
    public var milliseconds: Int64

    /// Creates a span of milliseconds.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    /// Creates a span of seconds.
    public static func seconds(_ s: Int64) -> Span { Span(milliseconds: s * 1000) }
    /// Creates a span of minutes.
    public static func minutes(_ m: Int64) -> Span { Span(milliseconds: m * 60_000) }

    /// The span in seconds, as a floating-point value for clocks and timers.
    public var seconds: Double { Double(milliseconds) / 1000 }

    static let units: [(String, Int64)] = [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]

    /// Parses `500ms`, `5s`, `2m`, `1h`, `1h30m`. Refuses negatives, bare numbers and unknown units.
    public static func parse(_ text: String) throws(QuantityError) -> Span {
        let bad = QuantityError("\"\(text)\" is not a duration (e.g. 500ms, 5s, 2m, 1h)")
        if text.hasPrefix("-") { throw QuantityError("\"\(text)\" must not be negative") }
        var rest = Substring(text)
        var total: Int64 = 0
        if rest.isEmpty { throw bad }
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCIIDigit })
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix(while: { $0.isLetter })
            rest = rest.dropFirst(unit.count)
            guard !digits.isEmpty, let value = Int64(digits),
                let factor = units.first(where: { $0.0 == unit })?.1
            else { throw bad }
            let (product, o1) = value.multipliedReportingOverflow(by: factor)
            let (sum, o2) = total.addingReportingOverflow(product)
            if o1 || o2 { throw QuantityError("\"\(text)\" is too long") }
            total = sum
        }
        return Span(milliseconds: total)
    }

    /// The canonical form.
    public var description: String {
        if milliseconds == 0 { return "0s" }
        for (unit, factor) in Self.units where milliseconds % factor == 0 {
            return "\(milliseconds / factor)\(unit)"
        }
        return "\(milliseconds)ms"
    }

    /// Orders by length.
    public static func < (lhs: Span, rhs: Span) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// Decodes the string form.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        do { self = try Span.parse(text) } catch {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: error.message)
        }
    }

    /// Encodes the canonical string.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
