import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TansiqModel
import TansiqRegistry
import TansiqStore
import Testing

@testable import TansiqController

/// An in-process controller over a real SQLite file, with tokens of every role.
struct Harness: Sendable {
    let cluster: Cluster
    let tokens: [String: String]
    let dir: URL

    static let ministries = """
        apiVersion: tansiq/v1
        kind: Ministry
        metadata: {name: health}
        spec:
          code: GOV-MOH
          displayName: {en: Ministry of Health, ar: وزارة الصحة}
          quota: {cpu: 2, memory: 4Gi, storage: 10Gi, instances: 10}
          cohort: shared
        ---
        apiVersion: tansiq/v1
        kind: Ministry
        metadata: {name: finance}
        spec:
          code: GOV-MOF
          displayName: {en: Ministry of Finance, ar: وزارة المالية}
          quota: {cpu: 2, memory: 4Gi, storage: 10Gi, instances: 10}
          cohort: shared
          lendingLimit: {cpu: 1}
          priorities: [critical, high, standard, batch]
        """

    static func app(
        _ ministry: String, _ name: String, replicas: Int = 2, cpu: String = "250m", extra: String = ""
    )
        -> String
    {
        """
        apiVersion: tansiq/v1
        kind: Application
        metadata: {name: \(name), ministry: \(ministry)}
        spec:
          replicas: \(replicas)
          resources: {cpu: \(cpu), memory: 128Mi}
          run: {command: [/bin/sleep, "1000"]}\(extra)
        """
    }

    /// A fresh store with tokens for: operator `admin`, operator `second`, `auditor`, `health-admin`,
    /// `health-viewer`, `finance-admin`, `gateway`, an expired and a revoked operator token; and, unless
    /// `empty`, the two ministries of `ministries`.
    static func make(empty: Bool = false) async throws -> Harness {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-harness-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: dir.appendingPathComponent("tansiq.db").path)
        let now = Date()
        var records: [TokenRecord] = []
        var tokens: [String: String] = [:]
        let specs: [(String, String, Role, String?)] = [
            ("admin", "admin", .operator, nil), ("second", "second", .operator, nil), ("auditor", "aya", .auditor, nil),
            ("health-admin", "hala", .ministryAdmin, "health"), ("health-viewer", "hadi", .ministryViewer, "health"),
            ("finance-admin", "fadi", .ministryAdmin, "finance"), ("bootstrap", "bootstrap", .bootstrap, nil),
            ("gateway", "edge", .gateway, nil),
        ]
        for (key, subject, role, ministry) in specs {
            let (token, record) = TokenMint.mint(
                subject: subject, role: role, ministry: ministry, ttl: 3600, now: now, createdBy: "test")
            tokens[key] = token
            records.append(record)
        }
        let expired = TokenMint.mint(
            subject: "old", role: .operator, ministry: nil, ttl: 60, now: now.addingTimeInterval(-120),
            createdBy: "test")
        var revoked = TokenMint.mint(
            subject: "gone", role: .operator, ministry: nil, ttl: 3600, now: now, createdBy: "test")
        revoked.record.revokedAt = now
        tokens["expired"] = expired.token
        tokens["revoked"] = revoked.token
        records += [expired.record, revoked.record]
        try await store.commit(Changeset(basedOn: 0, resourceVersion: 1, mutations: records.map { .putToken($0) }))
        let cluster = try await Cluster(store: store)
        let harness = Harness(cluster: cluster, tokens: tokens, dir: dir)
        if !empty {
            try await harness.test { client in
                let reply = try await client.call(.post, "/v1/apply", token: "admin", body: ministries)
                #expect(reply.status == 200, "\(reply.body)")
            }
        }
        return harness
    }

    /// A CA for the in-process servers.
    static let ca = try! CertificateAuthority.create(now: Date())

    /// A secrets key for the in-process servers, in a directory of its own.
    static let keyring: SecretsKeyring = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-keys-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try! SecretsKeyring(directory: DataDirectory(path: dir.path), create: true)
    }()

    /// Runs `body` against the router in-process.
    func test(_ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let server = ControllerServer(
            cluster: cluster, metrics: .bootstrap(), ca: Self.ca,
            registry: try RegistryClient(access: RegistryAccess()),
            keyring: Self.keyring)
        let app = Application(router: server.testRouter)
        let tokens = self.tokens
        try await app.test(.router) { client in
            try await body(Client(client: client, tokens: tokens))
        }
    }

    /// The committed state.
    var state: StoredState { get async { await cluster.current.state } }

    /// The audit log.
    func audit() async throws -> [AuditRecord] { try await cluster.audit(after: 0, limit: 10_000) }
}

/// Calls with a named token.
struct Client: Sendable {
    let client: any TestClientProtocol
    let tokens: [String: String]

    func call(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, body: String? = nil,
        contentType: String = "application/yaml", rawToken: String? = nil
    ) async throws -> TestReply {
        var headers: HTTPFields = [:]
        if let bearer = rawToken ?? token.map({ tokens[$0]! }) { headers[.authorization] = "Bearer \(bearer)" }
        if body != nil { headers[.contentType] = contentType }
        return try await client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            TestReply(status: Int(response.status.code), body: String(buffer: response.body), headers: response.headers)
        }
    }
}

/// A reply: status, body, headers.
struct TestReply: Sendable {
    var status: Int
    var body: String
    var headers: HTTPFields

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String { (json["error"] as? [String: Any])?["message"] as? String ?? "" }
    var details: [[String: Any]] { (json["error"] as? [String: Any])?["details"] as? [[String: Any]] ?? [] }
    var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
}
