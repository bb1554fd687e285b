import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOSSL
import TansiqAPI
import TansiqModel
import X509

/// `tansiq-agent join`: pins the controller's CA, makes the node's key on the node, and trades
/// a CSR and the bootstrap token for the node's certificate.
public enum AgentJoin {
    /// What a join needs.
    public struct Request: Sendable {
        public var server: String
        public var token: String
        public var caHash: String
        public var name: String
        public var labels: [String: String]
        public var capacity: ResourceLimits?
        public var reserve: ResourceLimits
        public var portRange: ClosedRange<Int>
        public var statusInterval: Double
        public var runtime: RuntimeOptions

        public init(
            server: String, token: String, caHash: String, name: String, labels: [String: String],
            capacity: ResourceLimits?, reserve: ResourceLimits, portRange: ClosedRange<Int>, statusInterval: Double = 5,
            runtime: RuntimeOptions = RuntimeOptions()
        ) {
            self.runtime = runtime
            self.statusInterval = statusInterval
            self.server = server
            self.token = token
            self.caHash = caHash
            self.name = name
            self.labels = labels
            self.capacity = capacity
            self.reserve = reserve
            self.portRange = portRange
        }
    }

    /// `https://host:port` → host and port.
    static func endpoint(_ server: String) throws -> (host: String, port: Int) {
        guard let url = URL(string: server), url.scheme == "https", let host = url.host else {
            throw AgentError.invalid("--server \(server): expected https://HOST:PORT")
        }
        return (host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), url.port ?? 443)
    }

    /// Joins; returns the node's capacity as sent.
    @discardableResult
    public static func run(_ request: Request, directory: AgentDirectory) async throws -> Resources {
        guard Names.isDNSLabel(request.name) else {
            throw AgentError.invalid("--name \(request.name): not a DNS label")
        }
        guard request.caHash.hasPrefix("sha256:"), request.caHash.count == 71 else {
            throw AgentError.invalid("--ca-hash \(request.caHash): expected sha256: and 64 hex digits")
        }
        if FileManager.default.fileExists(atPath: directory.certificate) {
            throw AgentError.invalid("\(directory.path) already holds a joined node; use `tansiq-agent run`")
        }
        try RuntimeOptions.check(hostPaths: request.runtime.isolation.hostPaths, dataDir: directory.path)
        let (host, port) = try endpoint(request.server)
        let ca = try await CAPin.verifiedCA(host: host, port: port, pin: request.caHash)
        try FileManager.default.createDirectory(
            atPath: directory.path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let caPEM = try ca.serializeAsPEM().pemString + "\n"
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName(request.name) }, privateKey: .init(key),
            attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        let measured = Facts.measure(dataDir: directory.path)
        let declared = request.capacity ?? ResourceLimits()
        let capacity = Resources(
            cpuMillis: declared.cpuMillis ?? measured.cpuMillis,
            memoryBytes: declared.memoryBytes ?? measured.memoryBytes,
            storageBytes: declared.storageBytes ?? measured.storageBytes,
            instances: declared.instances ?? measured.instances)
        let offered = Facts.allocatable(capacity, reserve: request.reserve)
        let body = AgentProtocol.JoinRequest(
            name: request.name, csr: try csr.serializeAsPEM().pemString, labels: request.labels, capacity: offered)

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(caPEM.utf8), format: .pem)])
        tls.certificateVerification = .noHostnameVerification
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        var http = HTTPClientRequest(url: request.server + "/v1/agent/join")
        http.method = .POST
        http.headers.add(name: "Authorization", value: "Bearer \(request.token)")
        http.headers.add(name: "Content-Type", value: "application/json")
        http.body = .bytes(ByteBuffer(bytes: try WireJSON.encoder().encode(body)))
        let answer: String
        let code: UInt
        do {
            let response = try await client.execute(http, timeout: .seconds(30))
            answer = String(buffer: try await response.body.collect(upTo: 1 << 20))
            code = response.status.code
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw AgentError.refused("the join request failed: \(error)")
        }
        switch code {
        case 201: break
        case 401: throw AgentError.refused("the controller refused the bootstrap token (unknown, expired or revoked)")
        case 409: throw AgentError.refused("node \(request.name) has already joined; an operator must remove it first")
        default: throw AgentError.refused("the controller refused the join: \(code) \(answer)")
        }
        let certificates = try WireJSON.decoder().decode(AgentProtocol.Certificates.self, from: Data(answer.utf8))
        try directory.write(Data(key.pemRepresentation.utf8), to: directory.key, mode: 0o600)
        try directory.write(Data(certificates.certificate.utf8), to: directory.certificate, mode: 0o644)
        try directory.write(Data(caPEM.utf8), to: directory.ca, mode: 0o644)
        let config = AgentConfig(
            server: request.server, name: request.name, labels: request.labels,
            capacity: request.capacity == nil ? nil : capacity,
            reserve: request.reserve, portRange: request.portRange, statusInterval: request.statusInterval,
            runtime: request.runtime)
        try directory.write(try JSONEncoder().encode(config), to: directory.config, mode: 0o600)
        return offered
    }
}
