/// Where a server listens: `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces); port 0 lets
/// the system choose.
public struct ListenAddress: Sendable, Hashable {
    public var host: String
    public var port: Int

    /// Parses `text`; nil when it is not one of the three forms or the port is not 0 to 65535.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }
}
