import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import TansiqAPI
import TansiqModel

/// The request context of the log server: the connection, for the peer's certificate.
struct LogContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

/// Serves the node's instances' output to the controller alone: HTTPS with the node's own
/// certificate, and only a client certificate of the cluster CA naming the controller
/// (`tansiq:controller`) is answered.
///
/// `GET /v1/instances/{id}/logs?tail=N&since=RFC3339&follow=true`: `text/plain`, the rotated
/// part first; with `follow`, new lines as they are written until the instance leaves the node.
struct LogServer {
    let directory: AgentDirectory
    /// True while an instance is assigned to this node (a followed log ends once it is not).
    let isAssigned: @Sendable (String) async -> Bool
    /// How often a followed log is looked at.
    static let followInterval: Duration = .milliseconds(100)

    /// The TLS configuration: the node's certificate and key; client certificates required and
    /// checked against the cluster CA; TLS 1.2 or later.
    static func tlsConfiguration(_ directory: AgentDirectory) throws -> TLSConfiguration {
        let chain =
            try NIOSSLCertificate.fromPEMFile(directory.certificate) + NIOSSLCertificate.fromPEMFile(directory.ca)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: directory.key, format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuites = TLSPolicy.tls12CipherSuites
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(directory.ca))
        return tls
    }

    /// The application serving on `address`; `onRunning` hears the port it bound.
    func application(
        address: ListenAddress, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void
    ) throws -> some ApplicationProtocol {
        let router = Router(context: LogContext.self)
        router.get("/v1/instances/{id}/logs") { request, context in
            try await self.logs(request, context)
        }
        return Application(
            router: router,
            server: try .tls(.http1(), tlsConfiguration: Self.tlsConfiguration(directory)),
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? address.port) },
            logger: logger)
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    func logs(_ request: Request, _ context: LogContext) async throws -> Response {
        guard await TLSPolicy.peerCommonName(of: context.channel) == TLSPolicy.controllerCommonName else {
            return Self.text(.forbidden, "only the controller reads this node's logs")
        }
        let id = context.parameters.get("id") ?? ""
        guard Self.isInstanceID(id) else { return Self.text(.badRequest, "\(id) is not an instance id") }
        let query = request.uri.queryParameters
        var tail: Int?
        if let text = query.get("tail") {
            guard let value = Int(text), (0...1_000_000).contains(value) else {
                return Self.text(.badRequest, "?tail=\(text): must be a number of lines, 0 to 1000000")
            }
            tail = value
        }
        var since: Date?
        if let text = query.get("since") {
            guard let value = RFC3339.parse(text) else {
                return Self.text(.badRequest, "?since=\(text): must be an RFC 3339 time, e.g. 2026-12-06T10:00:00Z")
            }
            since = value
        }
        let follow: Bool
        switch query.get("follow") {
        case nil, "false": follow = false
        case "true": follow = true
        case let other?: return Self.text(.badRequest, "?follow=\(other): must be true or false")
        }
        let logs = InstanceLogs(directory: directory.instances + "/" + id)
        guard logs.exists else { return Self.text(.notFound, "no log of instance \(id) on this node") }
        let (text, end) = logs.read(tail: tail, since: since)
        guard follow else {
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        let isAssigned = self.isAssigned
        return Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody { writer in
                if !text.isEmpty { try await writer.write(ByteBuffer(bytes: text)) }
                var position = end
                while !Task.isCancelled {
                    try await Task.sleep(for: Self.followInterval)
                    let assigned = await isAssigned(id)
                    let size = FileStatus.size(of: logs.current)
                    if size < position {
                        // Rotated: the rest of what was read is in the rotated part.
                        let rest = InstanceLogs.bytes(
                            of: logs.previous, from: position, to: FileStatus.size(of: logs.previous))
                        if !rest.isEmpty { try await writer.write(ByteBuffer(bytes: rest)) }
                        position = 0
                    }
                    if size > position {
                        try await writer.write(
                            ByteBuffer(bytes: InstanceLogs.bytes(of: logs.current, from: position, to: size)))
                        position = size
                    } else if !assigned || !logs.exists {
                        break
                    }
                }
                try await writer.finish(nil)
            })
    }

    /// An instance id: lower-case letters, digits and `-`, as the controller makes them.
    static func isInstanceID(_ text: String) -> Bool {
        (1...253).contains(text.utf8.count)
            && text.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}
