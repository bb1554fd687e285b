import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOSSL
import TansiqAPI
import X509

/// Who a request is from when a follower forwarded it: the follower verified the caller's client
/// certificate and address and passes them on in headers, and the leader believes those headers
/// only from a connection that presents a controller's own client certificate (common name
/// `tansiq:controller`, issued by the cluster CA; never a node's: node names are DNS labels).
enum Forwarding {
    /// The common name of the certificate a controller forwards with.
    static let controllerCommonName = TLSPolicy.controllerCommonName
    /// The node whose verified client certificate the forwarded request came with.
    static let peerNodeHeader = "X-Tansiq-Peer-Node"
    /// The address the forwarded request came from.
    static let forwardedForHeader = "X-Tansiq-Forwarded-For"
    /// The forwarding controller, for the logs.
    static let viaHeader = "X-Tansiq-Forwarded-By"

    /// The headers a follower sets and a client must never: stripped from what it forwards.
    static let own: Set<String> = [peerNodeHeader, forwardedForHeader, viaHeader].map { $0.lowercased() }
        .reduce(into: []) { $0.insert($1) }

    /// The node a request comes from: its client certificate's, or from a fellow controller the
    /// one it forwarded for (nil: none).
    static func peerNode(_ request: Request, _ context: ControllerContext) async -> String? {
        guard let peer = await NodeCertificates.peerNode(of: context.channel) else { return nil }
        guard peer == controllerCommonName else { return peer }
        return header(request, peerNodeHeader)
    }

    /// The address a request comes from: the connection's, or from a fellow controller the one it
    /// forwarded for.
    static func sourceAddress(_ request: Request, _ context: ControllerContext) async -> String {
        let direct = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard await NodeCertificates.peerNode(of: context.channel) == controllerCommonName else { return direct }
        return header(request, forwardedForHeader) ?? direct
    }

    private static func header(_ request: Request, _ name: String) -> String? {
        guard let field = HTTPField.Name(name), let value = request.headers[field], !value.isEmpty else { return nil }
        return value
    }

    /// A client certificate for forwarding, issued now by `ca` to a new key: PEM certificate and key.
    static func identity(ca: CertificateAuthority, now: Date) throws -> (certificate: String, key: String) {
        let key = P256Key()
        let certificate = try ca.issue(
            publicKey: key.publicKey, commonName: controllerCommonName, server: false, now: now, days: 365)
        return (try certificate.serializeAsPEM().pemString + "\n", key.pem)
    }
}
