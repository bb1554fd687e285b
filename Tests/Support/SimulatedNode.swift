import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import X509

/// A node that speaks the agent protocol over real mutual TLS: its own P-256 key, a CSR with its
/// name, and, once joined, an HTTPS client that presents its certificate.
public final class SimulatedNode: @unchecked Sendable {
    /// The node's name.
    public let name: String
    /// Its private key.
    public let key = P256.Signing.PrivateKey()
    /// Its certificate (PEM), once joined.
    public private(set) var certificatePEM = ""
    private var client: HTTPClient?
    private let baseURL: String
    private let caPath: String

    /// A node of `name` for the controller at `baseURL` whose CA is at `caPath`.
    public init(name: String, baseURL: String, caPath: String) {
        self.name = name
        self.baseURL = baseURL
        self.caPath = caPath
    }

    /// A PEM CSR for `commonName` signed by this node's key.
    public func csr(commonName: String? = nil) throws -> String {
        let subject = try DistinguishedName { CommonName(commonName ?? name) }
        let request = try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: .init(key), attributes: .init(),
            signatureAlgorithm: .ecdsaWithSHA256)
        return try request.serializeAsPEM().pemString
    }

    /// `POST /v1/agent/join` with `token` through `http` (a client that trusts the CA); on 201
    /// keeps the certificate and opens the mTLS client.
    public func join(
        token: String, using http: HTTPClient, labels: [String: String] = [:], capacity: [String: Any]? = nil,
        csr: String? = nil
    ) async throws -> Reply {
        let body: [String: Any] = [
            "name": name, "csr": try csr ?? self.csr(), "labels": labels,
            "capacity": capacity ?? ["cpu": "4", "memory": "8Gi", "storage": "100Gi", "instances": 50],
        ]
        var request = HTTPClientRequest(url: baseURL + "/v1/agent/join")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        let reply = try await Reply(http.execute(request, timeout: .seconds(30)))
        if reply.status == 201, let certificate = (reply.json as? [String: Any])?["certificate"] as? String {
            try adopt(certificate)
        }
        return reply
    }

    /// Uses `certificatePEM` from now on (after a join or a renewal).
    public func adopt(_ certificatePEM: String) throws {
        self.certificatePEM = certificatePEM
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem))
        let old = client
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        try? old?.syncShutdown()
    }

    /// An mTLS call as this node.
    public func call(_ method: HTTPMethod, _ path: String, json: Any? = nil, timeout: Int64 = 70) async throws -> Reply
    {
        guard let client else { throw LiveError.failed("node \(name) has not joined") }
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        return try await Reply(client.execute(request, timeout: .seconds(timeout)))
    }

    /// A status body: the join's capacity, the given labels and instance reports.
    public static func status(labels: [String: String] = [:], instances: [[String: Any]] = []) -> [String: Any] {
        let capacity: [String: Any] = ["cpu": "4", "memory": "8Gi", "storage": "100Gi", "instances": 50]
        return [
            "capacity": capacity, "allocatable": capacity, "labels": labels, "enforcement": "none",
            "instances": instances,
        ]
    }

    /// One round of a well-behaved agent: reads its assignments and reports every assigned
    /// instance as Running. Returns the ids it reported.
    @discardableResult
    public func reportAssigned(labels: [String: String] = [:]) async throws -> [String] {
        let assignments = try await call(.GET, "/v1/agent/nodes/\(name)/assignments?after=0&wait=0")
        let instances = ((assignments.json as? [String: Any])?["instances"] as? [[String: Any]] ?? [])
            .compactMap { $0["id"] as? String }
        let reply = try await call(
            .PUT, "/v1/agent/nodes/\(name)/status",
            json: Self.status(labels: labels, instances: instances.map { ["id": $0, "phase": "Running"] }))
        guard reply.status == 200 else { throw LiveError.failed("status of \(name): \(reply.status) \(reply.body)") }
        return instances
    }

    /// Reports (`reportAssigned`) every `interval` until the task is cancelled; errors (the
    /// controller restarting) are retried.
    public func keepReporting(every interval: Duration, labels: [String: String] = [:]) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                _ = try? await reportAssigned(labels: labels)
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Closes the mTLS client.
    public func shutdown() async {
        try? await client?.shutdown()
        client = nil
    }
}

extension Reply {
    /// Reads a response whole.
    init(_ response: HTTPClientResponse) async throws {
        let bytes = try await response.body.collect(upTo: 64 << 20)
        self.init(status: Int(response.status.code), body: String(buffer: bytes))
    }
}
