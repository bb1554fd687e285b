import Crypto
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SwiftASN1
import X509

/// Pins the controller's CA by the hash of its SubjectPublicKeyInfo (kubeadm's discovery hash):
/// before the bootstrap token is sent, the agent reads the chain the controller presents and
/// keeps the CA certificate whose key hashes to the pin, or refuses.
public enum CAPin {
    /// `sha256:` and the hex SHA-256 of a certificate's DER SubjectPublicKeyInfo.
    public static func pin(of certificate: Certificate) -> String {
        var serializer = DER.Serializer()
        try? serializer.serialize(certificate.publicKey)
        return "sha256:" + SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The certificates the server at `host:port` presents in its TLS handshake (unverified).
    static func presentedChain(host: String, port: Int) async throws -> [Certificate] {
        let group = MultiThreadedEventLoopGroup.singleton
        let captured = group.next().makePromise(of: [NIOSSLCertificate].self)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: tls)
        let connecting = ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(
                        context: context, serverHostname: nil,
                        customVerificationCallback: { certificates, verdict in
                            captured.succeed(certificates)
                            verdict.succeed(.certificateVerified)
                        })
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: host, port: port)
        let channel: any Channel
        do {
            channel = try await connecting.get()
        } catch {
            captured.fail(error)
            throw AgentError.refused("cannot reach \(host):\(port): \(error)")
        }
        defer { channel.close(promise: nil) }
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) {
            captured.fail(AgentError.refused("\(host):\(port) did not complete a TLS handshake"))
        }
        defer { timeout.cancel() }
        return try await captured.futureResult.get().map { try Certificate(derEncoded: try $0.toDERBytes()) }
    }

    /// The CA certificate of the chain `host:port` presents whose key matches `pin`, checked to
    /// have issued the server's certificate. Throws `AgentError.refused` otherwise.
    public static func verifiedCA(host: String, port: Int, pin: String) async throws -> Certificate {
        let chain = try await presentedChain(host: host, port: port)
        guard let ca = chain.first(where: { Self.pin(of: $0) == pin.lowercased() }) else {
            throw AgentError.refused(
                "the controller at \(host):\(port) does not present a CA with hash \(pin) "
                    + "(it presents \(chain.map(Self.pin(of:)).joined(separator: ", "))); not sending the token")
        }
        guard let leaf = chain.first, leaf == ca || ca.publicKey.isValidSignature(leaf.signature, for: leaf) else {
            throw AgentError.refused("the controller's certificate is not signed by the pinned CA")
        }
        return ca
    }
}
