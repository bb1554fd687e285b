import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// IP address literals: a node's address, a certificate's subject alternative names.
public enum IPAddress {
    /// The address's bytes (4 for IPv4, 16 for IPv6), or nil when `text` is not an IP literal.
    public static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// True when `text` is an IPv4 or IPv6 literal.
    public static func isValid(_ text: String) -> Bool { bytes(of: text) != nil }
}
