import Crypto
import Foundation
import TansiqModel

/// Makes and checks bearer tokens. A token is `tq_ID.SECRET`: the id finds its record, and the
/// record keeps only the SHA-256 of the whole token, compared in constant time.
public enum TokenMint {
    /// A new token and the record that stores it.
    public static func mint(
        subject: String, role: Role, ministry: String?, ttl: TimeInterval, now: Date, createdBy: String
    ) -> (token: String, record: TokenRecord) {
        let id = hex(randomBytes(8))
        let token = "tq_\(id).\(hex(randomBytes(32)))"
        let record = TokenRecord(
            id: id, subject: subject, role: role, ministry: ministry, hash: hash(token),
            createdAt: RFC3339.truncated(now), expiresAt: RFC3339.truncated(now.addingTimeInterval(ttl)),
            createdBy: createdBy)
        return (token, record)
    }

    /// The id inside a token, or nil when it is not shaped like one.
    public static func id(of token: String) -> String? {
        guard token.hasPrefix("tq_"), let dot = token.firstIndex(of: ".") else { return nil }
        let id = token[token.index(token.startIndex, offsetBy: 3)..<dot]
        return id.isEmpty ? nil : String(id)
    }

    /// True when `token` is the one `record` was made for.
    public static func matches(_ token: String, _ record: TokenRecord) -> Bool {
        let a = Array(hash(token).utf8)
        let b = Array(record.hash.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func hash(_ token: String) -> String { hex(Array(SHA256.hash(data: Array(token.utf8)))) }

    static func randomBytes(_ n: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// Token lifetimes: `30d`, `12h`, `90m`, `45s`.
public enum TokenTTL {
    /// Seconds, or nil when `text` is not a positive whole number followed by d, h, m or s.
    public static func parse(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let n = Int(text.dropLast()), n > 0, n <= 3650 * 86400 else { return nil }
        switch unit {
        case "d": return TimeInterval(n) * 86400
        case "h": return TimeInterval(n) * 3600
        case "m": return TimeInterval(n) * 60
        case "s": return TimeInterval(n)
        default: return nil
        }
    }
}
