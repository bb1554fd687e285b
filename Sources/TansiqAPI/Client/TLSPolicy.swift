import NIOCore
import NIOSSL
import X509

/// What every Tansiq TLS endpoint shares: the cipher suites it offers under TLS 1.2, and how a
/// peer's certificate is named.
public enum TLSPolicy {
    /// Mozilla's "intermediate" TLS 1.2 suites: ECDHE, AES-GCM or ChaCha20-Poly1305 (TLS 1.3's
    /// suites are all of that kind).
    public static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// The common name of a controller's own client certificate (forwarding to the leader,
    /// reading nodes' logs): never a node's, whose names are DNS labels.
    public static let controllerCommonName = "tansiq:controller"

    /// The common name of a certificate's or CSR's subject (the last, when several), if it has one.
    public static func commonName(_ name: DistinguishedName) -> String? {
        var result: String?
        for rdn in name {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                result = String(attribute.value)
            }
        }
        return result
    }

    /// The common name of the client certificate a connection presented (the TLS layer has
    /// already checked it against the cluster CA), or nil without one.
    public static func peerCommonName(of channel: any Channel) async -> String? {
        // An HTTP/2 request comes on a stream channel: the TLS handler is on its connection's.
        var found = try? await channel.nioSSL_peerCertificate().get()
        if found == nil, let parent = channel.parent {
            found = try? await parent.nioSSL_peerCertificate().get()
        }
        guard let certificate = found,
            let der = try? certificate.toDERBytes(),
            let parsed = try? Certificate(derEncoded: der)
        else { return nil }
        return commonName(parsed.subject)
    }
}
