import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOSSL
import TansiqAPI
import TansiqModel

extension Routes {
    /// `GET /v1/instances/{id}/logs?tail=N&since=T&follow=true`: an instance's output, read from
    /// its node's agent over mutual TLS and streamed as `text/plain`, for whoever may read the
    /// instance's ministry. Another ministry's instance — or one that does not exist, to a
    /// ministry role — is 403: ids are not confirmed to those who may not read them.
    func registerLogs(_ table: inout RouteTable) {
        table.add(.get, "/v1/instances/{id}/logs") { request, context, caller in
            let id = context.parameter("id")
            let registry = await cluster.current
            guard let instance = registry.state.instances[id], Access.canRead(caller, ministry: instance.ministry)
            else {
                if Access.canReadAll(caller) { throw APIError(.notFound, "Instance/\(id) does not exist") }
                throw APIError(.forbidden, Access.refusal(caller, "read the logs of instance \(id)"))
            }
            var query: [String] = []
            if let text = request.query("tail") {
                guard let tail = Int(text), (0...1_000_000).contains(tail) else {
                    throw APIError(.invalid, "?tail=\(text): must be a number of lines, 0 to 1000000")
                }
                query.append("tail=\(tail)")
            }
            if let text = request.query("since") {
                guard let since = RFC3339.parse(text) else {
                    throw APIError(.invalid, "?since=\(text): must be an RFC 3339 time, e.g. 2026-12-06T10:00:00Z")
                }
                query.append("since=\(RFC3339.formatMilliseconds(since))")
            }
            let follow = try request.flag("follow")
            if follow { query.append("follow=true") }
            guard let nodeName = instance.node, let node = registry.state.nodes[nodeName] else {
                throw APIError(.conflict, "instance \(id) was never placed on a node: it has no output")
            }
            guard let address = node.address, let port = node.logPort else {
                throw APIError(.unavailable, "node \(nodeName) has not reported where it serves logs; retry later")
            }
            return try await NodeLogs.fetch(
                instance: id, node: nodeName, address: address, port: port,
                query: query.joined(separator: "&"), follow: follow, ca: ca,
                identity: try Forwarding.identity(ca: ca, now: now()))
        }
    }
}

/// Reads logs from nodes' agents: a client certificate of the controller's own
/// (`tansiq:controller`), the node's certificate checked against the cluster CA and its name
/// (the node's name is the host asked for, resolved to the address it reported).
enum NodeLogs {
    /// How long a request that does not follow may take.
    static let timeout = TimeAmount.seconds(30)
    /// How long a followed log may stream.
    static let followTimeout = TimeAmount.hours(24)

    static func fetch(
        instance: String, node: String, address: String, port: Int, query: String, follow: Bool,
        ca: CertificateAuthority, identity: (certificate: String, key: String)
    ) async throws -> Response {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.trustRoots = .certificates(
            try NIOSSLCertificate.fromPEMBytes(Array(try ca.certificate.serializeAsPEM().pemString.utf8)))
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificate.utf8)).map {
            .certificate($0)
        }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.key.utf8), format: .pem))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.dnsOverride = [node: address]
        configuration.timeout = .init(connect: .seconds(5), read: follow ? followTimeout : timeout)
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let url = "https://\(node):\(port)/v1/instances/\(instance)/logs" + (query.isEmpty ? "" : "?" + query)
        let answer: HTTPClientResponse
        do {
            answer = try await client.execute(HTTPClientRequest(url: url), timeout: follow ? followTimeout : timeout)
        } catch {
            try? await client.shutdown()
            var refusal = APIError(
                .unavailable, "node \(node) cannot be reached for logs at \(address):\(port): \(error)")
            refusal.retryAfter = 1
            throw refusal
        }
        guard answer.status == .ok else {
            let text = (try? await answer.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
            try? await client.shutdown()
            let reason = text.trimmingCharacters(in: .whitespacesAndNewlines)
            switch answer.status.code {
            case 404: throw APIError(.notFound, "node \(node) no longer holds the output of instance \(instance)")
            case 400: throw APIError(.invalid, "node \(node): \(reason)")
            default:
                throw APIError(.unavailable, "node \(node) answered \(answer.status.code) for logs: \(reason)")
            }
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody { writer in
                defer { Task { try? await client.shutdown() } }
                for try await chunk in answer.body { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }
}
