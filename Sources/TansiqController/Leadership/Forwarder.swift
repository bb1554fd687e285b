import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOSSL

/// A follower's way to the leader: every request — people's API and the agent protocol, long
/// polls included — sent on to the leader's advertised URL over mutual TLS with the controller's
/// own client certificate, and its answer returned as it came. The caller's verified node
/// certificate and address travel in `Forwarding`'s headers.
final class Forwarder: Sendable {
    private let http: HTTPClient
    /// Longer than the longest long poll (60 s) the leader may hold.
    static let timeout = TimeAmount.seconds(75)
    /// Connections to the leader at once: two per node of a large cluster.
    static let connections = 40_000
    /// Headers that belong to one connection, not to the request.
    private static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host",
        "content-length",
    ]

    /// A forwarder trusting the cluster CA (`caFile`) and presenting `identity` (PEM certificate and key).
    init(caFile: String, identity: (certificate: String, key: String)) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        // The cluster's own CA is the leader's identity; its certificate need not name the
        // address a follower reaches it by.
        tls.certificateVerification = .noHostnameVerification
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificate.utf8)).map {
            .certificate($0)
        }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.key.utf8), format: .pem))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5), read: Self.timeout)
        // A leader that is gone is a 503 at once, not after retries until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        // Every node may hold a long poll through this follower (HTTP/1.1: a connection each to
        // the leader), and statuses wait for the leader's commit: never queue them behind a few
        // connections (AsyncHTTPClient's default is 8 per host).
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = Self.connections
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends `request` to `leader` (`https://HOST:PORT`) and answers what the leader answered; a
    /// leader that cannot be reached is a 503 the client retries.
    func forward(_ request: Request, _ context: ControllerContext, to leader: String) async throws -> Response {
        let body = try await API.body(request)
        var out = HTTPClientRequest(url: leader + request.uri.description)
        out.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers
        where !Self.hopByHop.contains(field.name.canonicalName) && !Forwarding.own.contains(field.name.canonicalName) {
            out.headers.add(name: field.name.rawName, value: field.value)
        }
        out.headers.add(
            name: Forwarding.forwardedForHeader, value: await Forwarding.sourceAddress(request, context))
        if let node = await NodeCertificates.peerNode(of: context.channel), node != Forwarding.controllerCommonName {
            out.headers.add(name: Forwarding.peerNodeHeader, value: node)
        }
        out.headers.add(name: Forwarding.viaHeader, value: context.requestID)
        if !body.isEmpty || request.method == .post || request.method == .put || request.method == .patch {
            out.body = .bytes(ByteBuffer(bytes: body))
        }
        // An instance's logs stream (a followed one for as long as the client reads it); every
        // other answer is read whole first.
        let streams = request.uri.path.hasSuffix("/logs")
        let answer: HTTPClientResponse
        var bytes = ByteBuffer()
        do {
            answer = try await http.execute(out, timeout: streams ? NodeLogs.followTimeout : Self.timeout)
            if !streams { bytes = try await answer.body.collect(upTo: 256 << 20) }
        } catch {
            var refusal = APIError(
                .unavailable, "this controller is a follower and cannot reach the leader at \(leader); retry")
            refusal.retryAfter = 1
            throw refusal
        }
        var headers = HTTPFields()
        for header in answer.headers where !Self.hopByHop.contains(header.name.lowercased()) {
            if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: Int(answer.status.code)), headers: headers,
            body: streams ? ResponseBody(asyncSequence: answer.body) : ResponseBody(byteBuffer: bytes))
    }

    func shutdown() async { try? await http.shutdown() }
}
