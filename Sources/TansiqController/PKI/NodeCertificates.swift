import Foundation
import NIOCore
import NIOSSL
import TansiqAPI
import X509

/// Node certificates: signing a node's CSR, and reading which node a TLS peer is.
public enum NodeCertificates {
    /// How long a node certificate is valid.
    public static let validityDays = 90

    /// The common name of a certificate or CSR subject.
    static func commonName(_ name: DistinguishedName) -> String? { TLSPolicy.commonName(name) }

    /// Checks a PEM CSR (parsable, self-signed correctly, common name `node`) and signs a client
    /// certificate for it. Throws `APIError.invalid` saying what is wrong.
    static func sign(csrPEM: String, node: String, ca: CertificateAuthority, now: Date) throws -> String {
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(pemEncoded: csrPEM)
        } catch {
            throw APIError(.invalid, "csr: not a PEM certificate signing request")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw APIError(.invalid, "csr: its signature does not match its public key")
        }
        guard let cn = commonName(csr.subject), cn == node else {
            throw APIError(
                .invalid,
                "csr: its common name is \(commonName(csr.subject).map { "\"\($0)\"" } ?? "missing"); it must be the node's name \"\(node)\""
            )
        }
        let certificate = try ca.issue(
            publicKey: csr.publicKey, commonName: node, dnsNames: [node], server: false, peer: true, now: now,
            days: validityDays)
        return try certificate.serializeAsPEM().pemString + "\n"
    }

    /// The node a connection's client certificate names, or nil without one. The TLS layer has
    /// already checked the certificate against the cluster CA.
    static func peerNode(of channel: any Channel) async -> String? { await TLSPolicy.peerCommonName(of: channel) }
}
