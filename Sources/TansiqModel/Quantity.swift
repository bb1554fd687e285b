/// Why a quantity string was refused: a sentence that completes "cpu: ..." in a diagnostic.
public struct QuantityError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The reason, e.g. `"-1" must not be negative`.
    public let message: String
    /// Creates an error with its reason.
    public init(_ message: String) { self.message = message }
    /// The reason.
    public var description: String { message }
}

/// Exact Kubernetes-style quantities.
///
/// cpu is kept as integer millicores (`2`, `0.5`, `500m`), memory and storage as integer bytes
/// (`512Mi`, `1.5Gi`, `1G`, `1048576`). Parsing is exact: a value finer than one millicore or one
/// byte is refused rather than rounded, and so is anything that does not fit in an `Int64`.
/// Formatting gives the canonical form, and `parse(format(x)) == x` for every value `x ≥ 0`.
public enum Quantity {
    /// Binary suffixes, largest first, with their factors.
    static let binarySuffixes: [(String, Int64)] = [
        ("Ei", 1 << 60), ("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10),
    ]
    /// Decimal suffixes, largest first, with their factors.
    static let decimalSuffixes: [(String, Int64)] = [
        ("E", 1_000_000_000_000_000_000), ("P", 1_000_000_000_000_000), ("T", 1_000_000_000_000),
        ("G", 1_000_000_000), ("M", 1_000_000), ("k", 1_000),
    ]

    /// Parses a cpu quantity into millicores: whole or fractional cores (`2`, `0.25`) or millicores (`250m`).
    public static func parseCPU(_ text: String) throws(QuantityError) -> Int64 {
        let (number, suffix) = try split(text, what: "a cpu quantity (e.g. 2, 0.5 or 500m)")
        switch suffix {
        case "": return try scale(number, by: 1000, text: text, unit: "millicore")
        case "m": return try scale(number, by: 1, text: text, unit: "millicore")
        default:
            throw QuantityError(
                "\"\(text)\" has unknown cpu suffix \"\(suffix)\" (allowed: none for cores, m for millicores)")
        }
    }

    /// Parses a memory or storage quantity into bytes: plain bytes, a binary suffix
    /// (`Ki` `Mi` `Gi` `Ti` `Pi` `Ei`) or a decimal one (`k` `M` `G` `T` `P` `E`).
    public static func parseBytes(_ text: String) throws(QuantityError) -> Int64 {
        let (number, suffix) = try split(text, what: "a byte quantity (e.g. 512Mi, 4Gi or 1G)")
        if suffix.isEmpty { return try scale(number, by: 1, text: text, unit: "byte") }
        if let factor = (binarySuffixes + decimalSuffixes).first(where: { $0.0 == suffix })?.1 {
            return try scale(number, by: factor, text: text, unit: "byte")
        }
        throw QuantityError(
            "\"\(text)\" has unknown suffix \"\(suffix)\" (allowed: Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E)")
    }

    /// The canonical cpu form: whole cores (`2`) when exact, else millicores (`500m`).
    public static func formatCPU(_ millicores: Int64) -> String {
        millicores % 1000 == 0 ? String(millicores / 1000) : "\(millicores)m"
    }

    /// The canonical byte form: the largest binary suffix that divides exactly, else the largest
    /// decimal one, else plain bytes.
    public static func formatBytes(_ bytes: Int64) -> String {
        if bytes == 0 { return "0" }
        for (suffix, factor) in binarySuffixes + decimalSuffixes where bytes % factor == 0 {
            return "\(bytes / factor)\(suffix)"
        }
        return String(bytes)
    }

    /// A number as written: integer digits, fraction digits, then the suffix.
    struct Number {
        var integer: Substring
        var fraction: Substring
    }

    private static func split(_ text: String, what: String) throws(QuantityError) -> (Number, String) {
        let trimmed = text
        if trimmed.isEmpty { throw QuantityError("\"\(text)\" is empty; expected \(what)") }
        if trimmed.hasPrefix("-") { throw QuantityError("\"\(text)\" must not be negative") }
        let chars = Substring(trimmed)
        let digitsEnd = chars.firstIndex(where: { !$0.isASCIIDigit && $0 != "." }) ?? chars.endIndex
        let numeric = chars[..<digitsEnd]
        let suffix = String(chars[digitsEnd...])
        let parts = numeric.split(separator: ".", omittingEmptySubsequences: false)
        guard !numeric.isEmpty, parts.count <= 2, !parts[0].isEmpty,
            parts.count == 1 || !parts[1].isEmpty
        else { throw QuantityError("\"\(text)\" is not \(what)") }
        if suffix.contains(where: { !$0.isLetter }) { throw QuantityError("\"\(text)\" is not \(what)") }
        return (Number(integer: parts[0], fraction: parts.count == 2 ? parts[1] : ""), suffix)
    }

    /// `number × factor`, exactly, or an error naming the unit it cannot be expressed in.
    private static func scale(
        _ number: Number, by factor: Int64, text: String, unit: String
    ) throws(QuantityError)
        -> Int64
    {
        let tooLarge = QuantityError("\"\(text)\" is too large")
        // Trailing zeros of the fraction change nothing ("1.50Gi" is "1.5Gi").
        var fraction = number.fraction
        while fraction.last == "0" { fraction = fraction.dropLast() }
        let integerDigits = number.integer.drop(while: { $0 == "0" })
        guard integerDigits.count <= 19, let integer = Int64(integerDigits.isEmpty ? "0" : integerDigits) else {
            throw tooLarge
        }
        let (whole, overflow) = integer.multipliedReportingOverflow(by: factor)
        if overflow { throw tooLarge }
        if fraction.isEmpty { return whole }
        // fraction / 10^f × factor must be an integer: reduce by gcd(factor, 10^f) to stay in range.
        guard fraction.count <= 18, let fractionValue = Int64(fraction) else {
            throw QuantityError("\"\(text)\" is finer than one \(unit)")
        }
        var denominator: Int64 = 1
        for _ in 0..<fraction.count { denominator *= 10 }
        let divisor = gcd(factor, denominator)
        let reducedDenominator = denominator / divisor
        guard fractionValue % reducedDenominator == 0 else {
            throw QuantityError("\"\(text)\" is finer than one \(unit)")
        }
        let (part, partOverflow) = (fractionValue / reducedDenominator).multipliedReportingOverflow(
            by: factor / divisor)
        let (sum, sumOverflow) = whole.addingReportingOverflow(part)
        if partOverflow || sumOverflow { throw tooLarge }
        return sum
    }

    private static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
