import Crypto
import Foundation
import TansiqModel
import TansiqStore
import X509

/// `tansiq-controller init`: a new cluster in a new data directory.
public enum ClusterInit {
    /// What `init` made, for the message it prints.
    public struct Result: Sendable {
        /// The operator token (printed once; also in `operator.token`).
        public var operatorToken: String
        /// The agents' bootstrap token.
        public var bootstrapToken: String
        /// When the bootstrap token expires.
        public var bootstrapExpiresAt: Date
        /// The CA pin agents check.
        public var caPin: String
    }

    /// How long the initial tokens live.
    public static let operatorTTL: TimeInterval = 365 * 86400
    /// The bootstrap token's default life.
    public static let bootstrapTTL: TimeInterval = 86400

    /// Creates the directory, the CA, the serving certificate for `hosts` (and 127.0.0.1,
    /// localhost), the store with the two initial tokens, and the token files. The store is
    /// SQLite in the directory, or the PostgreSQL database `storeURL` names (its schema created;
    /// the PKI files stay in the directory, which every controller of the cluster gets a copy of).
    ///
    /// Throws `DataDirectoryError.alreadyInitialised` (and touches nothing) when a cluster exists
    /// in the directory, `StoreError.invalid` when the database already holds one.
    public static func run(
        dataDir: DataDirectory, hosts: [String], now: Date, storeURL: String? = nil
    ) async throws
        -> Result
    {
        if dataDir.isInitialised { throw DataDirectoryError.alreadyInitialised(dataDir.path) }
        let postgres = try await storeURL.asyncMap { try await PostgresStore(url: try PostgresURL($0)) }
        if let postgres {
            let existing = try await postgres.load()
            guard existing.resourceVersion == 0, existing.tokens.isEmpty else {
                try? await postgres.close()
                throw StoreError.invalid(
                    "\(postgres.url) already holds a cluster (version \(existing.resourceVersion)); "
                        + "give the other controllers a copy of its data directory instead")
            }
        }
        var dnsNames = ["localhost"]
        var ips = ["127.0.0.1"]
        for host in hosts where !host.isEmpty {
            if IPAddress.bytes(of: host) != nil {
                if !ips.contains(host) { ips.append(host) }
            } else if !dnsNames.contains(host) {
                dnsNames.append(host)
            }
        }
        try dataDir.create()
        let ca = try CertificateAuthority.create(now: now)
        let serverKey = P256Key()
        let serving = try ca.issue(
            publicKey: serverKey.publicKey, commonName: "tansiq-controller", dnsNames: dnsNames, ipAddresses: ips,
            server: true, now: now, days: 825)
        try dataDir.write(ca.key.pemRepresentation, to: dataDir.caKey, mode: 0o600)
        try dataDir.write(try ca.certificate.serializeAsPEM().pemString + "\n", to: dataDir.caCertificate, mode: 0o644)
        try dataDir.write(serverKey.pem, to: dataDir.serverKey, mode: 0o600)
        try dataDir.write(try serving.serializeAsPEM().pemString + "\n", to: dataDir.serverCertificate, mode: 0o644)
        try dataDir.writeBytes(SecretsKeyring.newKeyBytes(), to: dataDir.secretsKey, mode: 0o600)

        let admin = TokenMint.mint(
            subject: "admin", role: .operator, ministry: nil, ttl: operatorTTL, now: now, createdBy: "init")
        let bootstrap = TokenMint.mint(
            subject: "bootstrap", role: .bootstrap, ministry: nil, ttl: bootstrapTTL, now: now, createdBy: "init")
        let store: any Store = try postgres ?? SQLiteStore(path: dataDir.database)
        let audit = [admin.record, bootstrap.record].map { record in
            AuditRecord(
                time: now, requestID: "init", subject: "init", role: "-", action: "token.create",
                object: "Token/\(record.id)", result: "created",
                message: "\(record.role.rawValue) for \(record.subject)")
        }
        do {
            try await store.commit(
                Changeset(
                    basedOn: 0, resourceVersion: 1, mutations: [.putToken(admin.record), .putToken(bootstrap.record)],
                    audit: audit))
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
        try dataDir.write(admin.token + "\n", to: dataDir.operatorToken, mode: 0o600)
        try dataDir.write(bootstrap.token + "\n", to: dataDir.bootstrapToken, mode: 0o600)
        return Result(
            operatorToken: admin.token, bootstrapToken: bootstrap.token,
            bootstrapExpiresAt: bootstrap.record.expiresAt, caPin: ca.pin)
    }
}

extension Optional {
    /// The value mapped by an async `transform`, or nil.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

/// A P-256 key pair with its PEM form.
struct P256Key {
    let key = P256.Signing.PrivateKey()
    var publicKey: Certificate.PublicKey { .init(key.publicKey) }
    var pem: String { key.pemRepresentation }
}
