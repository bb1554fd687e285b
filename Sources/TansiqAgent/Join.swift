import Foundation
import TansiqAPI
import TansiqModel
import X509

/// `tansiq-agent join`: pins the controller's CA, makes the node's key on the node, and trades
/// a CSR and the bootstrap token for the node's certificate.
public enum AgentJoin {
    /// What a join needs.
    public struct Request: Sendable {
        /// The controllers, tried in turn (the first that answers is joined through).
        public var servers: [String]
        public var token: String
        public var caHash: String
        public var name: String
        public var labels: [String: String]
        public var capacity: ResourceLimits?
        public var reserve: ResourceLimits
        public var portRange: ClosedRange<Int>
        public var statusInterval: Double
        public var runtime: RuntimeOptions
        /// `--address`, `--listen` (nil: their defaults, decided when the agent runs).
        public var address: String?
        public var listen: String?

        public init(
            servers: [String], token: String, caHash: String, name: String, labels: [String: String],
            capacity: ResourceLimits?, reserve: ResourceLimits, portRange: ClosedRange<Int>, statusInterval: Double = 5,
            runtime: RuntimeOptions = RuntimeOptions(), address: String? = nil, listen: String? = nil
        ) {
            self.runtime = runtime
            self.address = address
            self.listen = listen
            self.statusInterval = statusInterval
            self.servers = servers
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
        guard !request.servers.isEmpty else { throw AgentError.invalid("--server: give at least one controller") }
        let endpoints = try request.servers.map { try endpoint($0) }
        // The first controller that presents the pinned CA: they all present the cluster's.
        var found: Certificate?
        var failure: Error?
        for (host, port) in endpoints where found == nil {
            do { found = try await CAPin.verifiedCA(host: host, port: port, pin: request.caHash) } catch {
                failure = error
            }
        }
        guard let ca = found else { throw failure ?? AgentError.refused("no controller answered") }
        try FileManager.default.createDirectory(
            atPath: directory.path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let caPEM = try ca.serializeAsPEM().pemString + "\n"
        let key = NodeKey()
        let measured = Facts.measure(dataDir: directory.path)
        let declared = request.capacity ?? ResourceLimits()
        let capacity = Resources(
            cpuMillis: declared.cpuMillis ?? measured.cpuMillis,
            memoryBytes: declared.memoryBytes ?? measured.memoryBytes,
            storageBytes: declared.storageBytes ?? measured.storageBytes,
            instances: declared.instances ?? measured.instances)
        let offered = Facts.allocatable(capacity, reserve: request.reserve)
        let body = AgentProtocol.JoinRequest(
            name: request.name, csr: try key.csr(commonName: request.name), labels: request.labels, capacity: offered)
        let client = try TansiqClient(servers: request.servers, trust: .caPEM(caPEM), token: request.token)
        let certificates: AgentProtocol.Certificates
        do {
            certificates = try await client.join(body)
            await client.shutdown()
        } catch ClientError.refused(let failure) {
            await client.shutdown()
            switch failure.status {
            case 401:
                throw AgentError.refused("the controller refused the bootstrap token (unknown, expired or revoked)")
            case 409:
                throw AgentError.refused("node \(request.name) has already joined; an operator must remove it first")
            default: throw AgentError.refused("the controller refused the join: \(failure.status) \(failure)")
            }
        } catch {
            await client.shutdown()
            throw AgentError.refused("the join request failed: \(error)")
        }
        try directory.write(Data(key.pem.utf8), to: directory.key, mode: 0o600)
        try directory.write(Data(certificates.certificate.utf8), to: directory.certificate, mode: 0o644)
        try directory.write(Data(caPEM.utf8), to: directory.ca, mode: 0o644)
        let config = AgentConfig(
            server: request.servers[0], servers: request.servers.count > 1 ? request.servers : nil, name: request.name,
            labels: request.labels,
            capacity: request.capacity == nil ? nil : capacity,
            reserve: request.reserve, portRange: request.portRange, statusInterval: request.statusInterval,
            runtime: request.runtime, address: request.address, listen: request.listen)
        try directory.write(try JSONEncoder().encode(config), to: directory.config, mode: 0o600)
        return offered
    }
}
