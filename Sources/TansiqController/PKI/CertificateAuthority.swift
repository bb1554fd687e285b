import Crypto
import Foundation
import SwiftASN1
import TansiqModel
import X509

/// The cluster CA: a P-256 key and a self-signed certificate, issuing the controller's serving
/// certificate and the nodes' client certificates. Everything in-process (no `openssl`).
public struct CertificateAuthority: Sendable {
    /// The CA certificate.
    public let certificate: Certificate
    /// The CA key.
    public let key: P256.Signing.PrivateKey

    /// A new CA valid for `years` from `now`.
    public static func create(name: String = "Tansiq cluster CA", now: Date, years: Int = 10) throws -> Self {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Tansiq")
            CommonName(name)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(Double(years) * 365 * 86400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: .init(key))
        return Self(certificate: certificate, key: key)
    }

    /// Reads a CA from its PEM certificate and PEM key.
    public init(certificatePEM: String, keyPEM: String) throws {
        self.certificate = try Certificate(pemEncoded: certificatePEM)
        self.key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
    }

    init(certificate: Certificate, key: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.key = key
    }

    /// Issues a leaf certificate for `publicKey`.
    ///
    /// - Parameters:
    ///   - commonName: the subject's common name (a node's name, or `tansiq-controller`).
    ///   - dnsNames: DNS subject alternative names.
    ///   - ipAddresses: IP subject alternative names (IPv4 or IPv6 literals).
    ///   - server: true for a serving certificate (serverAuth), false for a client one (clientAuth).
    ///   - peer: a node's, both (a client of the controller, and the server of its logs).
    ///   - days: validity.
    public func issue(
        publicKey: Certificate.PublicKey, commonName: String, dnsNames: [String] = [], ipAddresses: [String] = [],
        server: Bool, peer: Bool = false, now: Date, days: Int
    ) throws -> Certificate {
        let subject = try DistinguishedName {
            OrganizationName("Tansiq")
            CommonName(commonName)
        }
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for ip in ipAddresses {
            guard let bytes = IPAddress.bytes(of: ip) else { throw PKIError.badAddress(ip) }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage(peer ? [.clientAuth, .serverAuth] : server ? [.serverAuth] : [.clientAuth])
            AuthorityKeyIdentifier(keyIdentifier: ArraySlice(Insecure.SHA1.hash(data: spki(key.publicKey)).prefix(20)))
            if !names.isEmpty { SubjectAlternativeNames(names) }
        }
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86400),
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: .init(key))
    }

    /// The CA pin agents check: `sha256:` and the hex SHA-256 of the CA certificate's DER
    /// SubjectPublicKeyInfo (kubeadm's `--discovery-token-ca-cert-hash`).
    public var pin: String { Self.pin(of: certificate) }

    /// The pin of any certificate's public key.
    public static func pin(of certificate: Certificate) -> String {
        var serializer = DER.Serializer()
        try? serializer.serialize(certificate.publicKey)
        return "sha256:" + SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02x", $0) }.joined()
    }

    private func spki(_ key: P256.Signing.PublicKey) -> [UInt8] { Array(key.derRepresentation) }
}

extension SubjectKeyIdentifier {
    /// The RFC 5280 method 1 identifier: SHA-1 of the public key.
    init(hash key: P256.Signing.PublicKey) {
        self.init(keyIdentifier: ArraySlice(Insecure.SHA1.hash(data: Array(key.derRepresentation))))
    }
}

/// Why a certificate could not be made.
public enum PKIError: Error, CustomStringConvertible {
    /// Not an IPv4 or IPv6 literal.
    case badAddress(String)

    public var description: String {
        switch self {
        case .badAddress(let a): "\(a) is not an IP address"
        }
    }
}
