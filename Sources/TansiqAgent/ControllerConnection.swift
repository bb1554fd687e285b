import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import TansiqAPI
import TansiqModel

/// The agent's calls to the controller, over mutual TLS with the node's certificate, trusting
/// only the pinned cluster CA.
final class ControllerConnection: @unchecked Sendable {
    private(set) var client: HTTPClient
    let server: String
    let name: String

    init(server: String, name: String, directory: AgentDirectory) throws {
        self.server = server
        self.name = name
        self.client = try Self.client(directory)
    }

    static func client(_ directory: AgentDirectory) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(directory.ca))
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(directory.certificate).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: directory.key, format: .pem))
        tls.minimumTLSVersion = .tlsv12
        // The pinned, cluster-private CA is the controller's identity; its certificate need not
        // name the address the node reaches it by.
        tls.certificateVerification = .noHostnameVerification
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(75))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Uses the certificate now in the directory (after a renewal).
    func reload(_ directory: AgentDirectory) throws {
        let old = client
        client = try Self.client(directory)
        Task { try? await old.shutdown() }
    }

    func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: (some Encodable)?, timeout: Int64, as: Answer.Type
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try WireJSON.encoder().encode(body)))
        }
        let response = try await client.execute(request, timeout: .seconds(timeout))
        let bytes = try await response.body.collect(upTo: 32 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw AgentError.refused("\(method) \(path): \(response.status.code) \(String(buffer: bytes))")
        }
        return try WireJSON.decoder().decode(Answer.self, from: Data(bytes.readableBytesView))
    }

    /// The node's assignments once newer than `after` (long poll).
    func assignments(after: Int64, wait: Int) async throws -> AgentProtocol.Assignments {
        try await call(
            .GET, "/v1/agent/nodes/\(name)/assignments?after=\(after)&wait=\(wait)", body: String?.none,
            timeout: Int64(wait) + 15, as: AgentProtocol.Assignments.self)
    }

    /// Reports the node's status.
    func report(_ status: AgentProtocol.Status) async throws {
        _ = try await call(
            .PUT, "/v1/agent/nodes/\(name)/status", body: status, timeout: 15, as: AgentProtocol.StatusAnswer.self)
    }

    /// Asks for a new certificate for `csr`.
    func renew(csr: String) async throws -> AgentProtocol.Certificates {
        try await call(
            .POST, "/v1/agent/nodes/\(name)/renew", body: AgentProtocol.RenewRequest(csr: csr), timeout: 15,
            as: AgentProtocol.Certificates.self)
    }

    func shutdown() async { try? await client.shutdown() }
}
