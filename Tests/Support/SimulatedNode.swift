import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import TansiqAPI
import TansiqModel
import X509

/// A node that speaks the agent protocol over real mutual TLS through the API client: its own
/// P-256 key, a CSR with its name, and, once joined, a client that presents its certificate.
public final class SimulatedNode: @unchecked Sendable {
    /// The node's name.
    public let name: String
    /// Its private key.
    public let key = NodeKey()
    /// Its certificate (PEM), once joined.
    public private(set) var certificatePEM = ""
    private var client: TansiqClient?
    /// The capacity it joined with, which its status reports keep reporting.
    public private(set) var capacity: [String: Any] = SimulatedNode.defaultCapacity
    private let baseURL: String
    private let caPath: String

    /// A node of `name` for the controller at `baseURL` whose CA is at `caPath`.
    public init(name: String, baseURL: String, caPath: String) {
        self.name = name
        self.baseURL = baseURL
        self.caPath = caPath
    }

    /// A PEM CSR for `commonName` signed by this node's key.
    public func csr(commonName: String? = nil) throws -> String { try key.csr(commonName: commonName ?? name) }

    /// `POST /v1/agent/join` with `token`; on 201 keeps the certificate and opens the mTLS client.
    public func join(
        token: String, labels: [String: String] = [:], capacity: [String: Any]? = nil, csr: String? = nil
    ) async throws -> Reply {
        self.capacity = capacity ?? Self.defaultCapacity
        let body: [String: Any] = [
            "name": name, "csr": try csr ?? self.csr(), "labels": labels, "capacity": self.capacity,
        ]
        let joining = try TansiqClient(server: baseURL, trust: .caFile(caPath), token: token)
        let response = try await joining.send(
            .POST, "/v1/agent/join", body: try JSONSerialization.data(withJSONObject: body), timeout: .seconds(30))
        await joining.shutdown()
        let reply = Reply(status: response.status, body: response.text)
        if reply.status == 201, let certificate = (reply.json as? [String: Any])?["certificate"] as? String {
            try await adopt(certificate)
        }
        return reply
    }

    /// `join` with a typed capacity (`Resources`, as the wire's `JoinRequest` carries it).
    public func join(token: String, labels: [String: String] = [:], resources: Resources) async throws -> Reply {
        let json = try JSONSerialization.jsonObject(with: WireJSON.encoder().encode(resources))
        return try await join(token: token, labels: labels, capacity: json as? [String: Any])
    }

    /// Uses `certificatePEM` from now on (after a join or a renewal).
    public func adopt(_ certificatePEM: String) async throws {
        self.certificatePEM = certificatePEM
        let old = client
        client = try TansiqClient(
            server: baseURL, trust: .caFile(caPath),
            identity: .init(certificatePEM: certificatePEM, keyPEM: key.pem))
        await old?.shutdown()
    }

    /// An mTLS call as this node.
    public func call(_ method: HTTPMethod, _ path: String, json: Any? = nil, timeout: Int64 = 70) async throws -> Reply
    {
        guard let client else { throw LiveError.failed("node \(name) has not joined") }
        let response = try await client.send(
            method, path, body: try json.map { try JSONSerialization.data(withJSONObject: $0) },
            timeout: .seconds(timeout))
        return Reply(status: response.status, body: response.text)
    }

    /// An mTLS call as this node with a typed JSON body.
    public func send(
        _ method: HTTPMethod, _ path: String, _ body: some Encodable, timeout: Int64 = 70
    ) async throws
        -> Reply
    {
        guard let client else { throw LiveError.failed("node \(name) has not joined") }
        let response = try await client.send(
            method, path, body: try WireJSON.encoder().encode(body), timeout: .seconds(timeout))
        return Reply(status: response.status, body: response.text)
    }

    /// What a node joins with unless told otherwise.
    public static var defaultCapacity: [String: Any] {
        ["cpu": "4", "memory": "8Gi", "storage": "100Gi", "instances": 50]
    }

    /// A status body: `capacity` (the default join's), the given labels and instance reports.
    public static func status(
        labels: [String: String] = [:], instances: [[String: Any]] = [], capacity: [String: Any] = defaultCapacity
    ) -> [String: Any] {
        [
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
            json: Self.status(
                labels: labels, instances: instances.map { ["id": $0, "phase": "Running"] }, capacity: capacity))
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
        await client?.shutdown()
        client = nil
    }
}

extension LiveController {
    /// Joins simulated nodes `names` of `capacity` that report every `interval`, runs `body`
    /// with them, then stops their reports and shuts them down, whatever `body` does.
    public func withNodes(
        _ names: [String], capacity: [String: Any], every interval: Duration = .milliseconds(200),
        _ body: ([SimulatedNode]) async throws -> Void
    ) async throws {
        var reporters: [Task<Void, Never>] = []
        var nodes: [SimulatedNode] = []
        var failure: Error?
        do {
            for name in names {
                let node = self.node(name)
                nodes.append(node)
                let joined = try await node.join(token: bootstrapToken, capacity: capacity)
                guard joined.status == 201 else { throw LiveError.failed("join \(name): \(joined.body)") }
                reporters.append(node.keepReporting(every: interval))
            }
            try await body(nodes)
        } catch {
            failure = error
        }
        for reporter in reporters {
            reporter.cancel()
            await reporter.value
        }
        for node in nodes { await node.shutdown() }
        if let failure { throw failure }
    }
}
