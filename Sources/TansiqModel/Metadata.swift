import Foundation

/// The envelope's `apiVersion`.
public let apiVersion = "tansiq/v1"

/// The kinds a manifest may declare.
public enum Kind: String, CaseIterable, Sendable, Codable {
    case ministry = "Ministry"
    case application = "Application"
    case capacityRequest = "CapacityRequest"
    case secret = "Secret"
}

/// `metadata` of every object: its name, owning ministry for owned kinds, labels, and the
/// bookkeeping the controller maintains (`resourceVersion`, `generation`, timestamps).
public struct ObjectMeta: Sendable, Hashable, Codable {
    /// A DNS label.
    public var name: String
    /// The owning ministry (Application, CapacityRequest); nil for a Ministry.
    public var ministry: String?
    /// Free-form labels.
    public var labels: [String: String]
    /// The cluster-wide counter at this object's last change; in an apply, the version the
    /// writer last saw (a stale one is refused).
    public var resourceVersion: Int64?
    /// Bumped on every change of `spec`.
    public var generation: Int64?
    /// When the controller first stored the object.
    public var createdAt: Date?
    /// When the controller last changed the object.
    public var updatedAt: Date?

    /// Creates metadata; the controller fills in the bookkeeping.
    public init(
        name: String, ministry: String? = nil, labels: [String: String] = [:], resourceVersion: Int64? = nil,
        generation: Int64? = nil, createdAt: Date? = nil, updatedAt: Date? = nil
    ) {
        self.name = name
        self.ministry = ministry
        self.labels = labels
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Checks of names and codes shared by the manifest decoder, the controller and the CLI.
public enum Names {
    /// True for a DNS label: `[a-z0-9-]{1,63}`, no leading or trailing `-`.
    public static func isDNSLabel(_ s: String) -> Bool {
        guard (1...63).contains(s.utf8.count), s.first != "-", s.last != "-" else { return false }
        return s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }

    /// True for a national government code: `^[A-Z]{2,8}(-[A-Z0-9]{2,12})+$`.
    public static func isGovernmentCode(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2, (2...8).contains(parts[0].count),
            parts[0].utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A })
        else { return false }
        return parts.dropFirst().allSatisfy { part in
            (2...12).contains(part.count)
                && part.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }
        }
    }

    /// True for a label key or value usable in selectors: 1–63 characters of `[A-Za-z0-9._-]`,
    /// starting and ending alphanumeric; keys may carry a DNS-style prefix (`example.gov/tier`).
    public static func isLabelKey(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let last = parts.last, isLabelValue(String(last)), !last.isEmpty else { return false }
        if parts.count == 2 {
            let prefix = parts[0]
            return (1...253).contains(prefix.count)
                && prefix.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
        }
        return true
    }

    /// True for a label value: empty, or up to 63 of `[A-Za-z0-9._-]` starting and ending alphanumeric.
    public static func isLabelValue(_ s: String) -> Bool {
        if s.isEmpty { return true }
        guard s.utf8.count <= 63, let first = s.unicodeScalars.first, let last = s.unicodeScalars.last,
            isAlnum(first), isAlnum(last)
        else { return false }
        return s.unicodeScalars.allSatisfy { isAlnum($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    private static func isAlnum(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c))
    }
}
