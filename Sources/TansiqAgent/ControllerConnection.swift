import Foundation
import TansiqAPI
import TansiqModel

/// The agent's calls to the controller, over mutual TLS with the node's certificate, trusting
/// only the pinned cluster CA. A renewal swaps the client under a lock: a call in flight keeps
/// the client it started with, which is closed only when the connection shuts down.
final class ControllerConnection: Sendable {
    private struct Clients {
        var current: TansiqClient
        var retired: [TansiqClient] = []
    }

    private let clients: Locked<Clients>
    /// The controllers, tried in turn when one cannot be reached.
    let servers: [String]
    let name: String

    init(servers: [String], name: String, directory: AgentDirectory) throws {
        self.servers = servers
        self.name = name
        clients = Locked(Clients(current: try Self.client(servers, directory)))
    }

    static func client(_ servers: [String], _ directory: AgentDirectory) throws -> TansiqClient {
        // The pinned, cluster-private CA is the controller's identity; its certificate need not
        // name the address the node reaches it by.
        try TansiqClient(
            servers: servers, trust: .caFile(directory.ca),
            identity: try .files(certificate: directory.certificate, key: directory.key))
    }

    private var client: TansiqClient { clients.withLock { $0.current } }

    /// Uses the certificate now in the directory (after a renewal).
    func reload(_ directory: AgentDirectory) throws {
        let fresh = try Self.client(servers, directory)
        clients.withLock { clients in
            clients.retired.append(clients.current)
            clients.current = fresh
        }
    }

    /// The node's assignments once newer than `after` (long poll).
    func assignments(after: Int64, wait: Int) async throws -> AgentProtocol.Assignments {
        try await client.assignments(node: name, after: after, wait: wait)
    }

    /// Reports the node's status, giving a controller that does not answer within `timeout` up
    /// for the next (a frozen leader must not keep the node silent past its grace period).
    func report(_ status: AgentProtocol.Status, timeout: Double) async throws {
        _ = try await client.report(node: name, status, timeout: .milliseconds(Int64(timeout * 1000)))
    }

    /// Asks for a new certificate for `csr`.
    func renew(csr: String) async throws -> AgentProtocol.Certificates {
        try await client.renew(node: name, csr: csr)
    }

    func shutdown() async {
        let all = clients.withLock { [$0.current] + $0.retired }
        for client in all { await client.shutdown() }
    }
}
