import Crypto
import Foundation
import X509

/// A node's key and the certificate signing requests made with it: the one place CSRs are made
/// (the agent's join and renewal, simulated nodes in tests and benchmarks).
public struct NodeKey: Sendable {
    /// The P-256 key; it never leaves the node.
    public let key: P256.Signing.PrivateKey

    /// A new key.
    public init() { key = P256.Signing.PrivateKey() }

    /// The key of a PEM file's text.
    public init(pem: String) throws { key = try P256.Signing.PrivateKey(pemRepresentation: pem) }

    /// The key as PEM.
    public var pem: String { key.pemRepresentation }

    /// A PEM CSR whose common name is `commonName` (the node's name), signed with the key.
    public func csr(commonName: String) throws -> String {
        let request = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName(commonName) }, privateKey: .init(key),
            attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        return try request.serializeAsPEM().pemString
    }
}
