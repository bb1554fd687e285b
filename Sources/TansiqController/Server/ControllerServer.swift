import Foundation
import Hummingbird
import HummingbirdHTTP2
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import TansiqAPI
import TansiqRegistry
import TansiqStore

/// The controller as a Hummingbird application: the API over HTTPS (TLS 1.2 or later), the
/// serving certificate presented with the cluster CA as its chain.
public struct ControllerServer {
    /// The cluster state and its store.
    public let cluster: Cluster
    /// Metrics.
    public let metrics: ControllerMetrics
    /// The routes that were registered.
    public let routes: [Routes.Entry]
    /// The cluster CA: signs node certificates and the audit log's checkpoints.
    public let ca: CertificateAuthority
    let router: Router<ControllerContext>

    /// Builds the routes over `cluster`; `ca` signs node certificates; `now` is the clock every
    /// decision reads.
    public init(
        cluster: Cluster, metrics: ControllerMetrics, ca: CertificateAuthority, registry: RegistryClient,
        keyring: SecretsKeyring, throttle: AuthThrottle = AuthThrottle(),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.cluster = cluster
        self.metrics = metrics
        self.ca = ca
        let router = Router(context: ControllerContext.self)
        router.add(middleware: APIMiddleware(metrics: metrics, cluster: cluster, now: now))
        self.routes = Routes(
            cluster: cluster, metrics: metrics, ca: ca, registry: registry, throttle: throttle, keyring: keyring,
            now: now
        ).register(on: router)
        self.router = router
    }

    /// Opens the data directory's store and builds the server over it.
    public static func open(
        dataDir: DataDirectory, metrics: ControllerMetrics, gracePeriod: TimeInterval = Registry.defaultGracePeriod,
        uidBase: Int = Registry.defaultUIDBase, registry: RegistryAccess = RegistryAccess(),
        throttle: AuthThrottle = AuthThrottle()
    ) async throws -> ControllerServer {
        guard dataDir.isInitialised else { throw DataDirectoryError.notInitialised(dataDir.path) }
        let store = try SQLiteStore(path: dataDir.database)
        let cluster = try await Self.cluster(
            store: store, metrics: metrics, gracePeriod: gracePeriod, uidBase: uidBase,
            auditArchive: dataDir.auditArchive)
        return ControllerServer(
            cluster: cluster, metrics: metrics, ca: try dataDir.certificateAuthority(),
            registry: try RegistryClient(access: registry),
            keyring: try SecretsKeyring(directory: dataDir, create: true),
            throttle: throttle)
    }

    /// A cluster over what `store` holds for the term of `epoch`, reporting its objects to
    /// `metrics`; ministries created before uids were given get theirs now, once.
    static func cluster(
        store: any Store, metrics: ControllerMetrics, gracePeriod: TimeInterval, uidBase: Int, epoch: Int64 = 1,
        advertise: String = "", auditArchive: String? = nil,
        onStale: @escaping @Sendable (StoreError) -> Void = { _ in }
    ) async throws -> Cluster {
        let cluster = try await Cluster(
            store: store, gracePeriod: gracePeriod, uidBase: uidBase, epoch: epoch, advertise: advertise,
            auditArchive: auditArchive, onStale: onStale
        ) { state in
            metrics.objects(
                ministries: state.ministries.count, applications: state.applications.count,
                capacityRequests: state.capacityRequests.count, instances: state.instances.count,
                tokens: state.tokens.count)
        }
        _ = try await cluster.systemChange(by: "uid-assignment", at: Date()) { $0.planRunAsForOlderMinistries() }
        return cluster
    }

    /// The TLS configuration of the data directory: serving certificate, then the CA; TLS 1.2+;
    /// client certificates optional at the TLS layer (the agent routes require them), checked
    /// against the cluster CA.
    public static func tlsConfiguration(dataDir: DataDirectory) throws -> TLSConfiguration {
        let chain =
            try NIOSSLCertificate.fromPEMFile(dataDir.serverCertificate)
            + NIOSSLCertificate.fromPEMFile(dataDir.caCertificate)
        let key = try NIOSSLPrivateKey(file: dataDir.serverKey, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        // TLS 1.2 with forward secrecy and AEAD only (TLS 1.3's suites are all of that kind).
        tls.cipherSuites = TLSPolicy.tls12CipherSuites
        tls.certificateVerification = .optionalVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(dataDir.caCertificate))
        return tls
    }

    /// The application that serves the API on `host:port` over TLS. A connection that sends
    /// nothing for `idleTimeout` — idle between requests, stalled in its handshake, headers or
    /// body — is closed; a request being answered (a long poll) is not.
    public func application(
        host: String, port: Int, tls: TLSConfiguration, logger: Logger, idleTimeout: TimeAmount = .seconds(60),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try Self.application(
            responder: router.buildResponder(), host: host, port: port, tls: tls, logger: logger,
            idleTimeout: idleTimeout, onRunning: onRunning)
    }

    /// The application that serves `responder` on `host:port` over TLS (see the method of the same name).
    static func application<Responder: HTTPResponder<ControllerContext>>(
        responder: Responder, host: String, port: Int, tls: TLSConfiguration, logger: Logger,
        idleTimeout: TimeAmount = .seconds(60), onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        Application(
            responder: responder,
            // HTTP/2 when the client offers it (ALPN: a node's long poll and statuses share one
            // connection), HTTP/1.1 otherwise.
            server: HandshakeDeadlineChannel.builder(tls: tls, idleTimeout: idleTimeout),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// The control loops and the long-poll release, to run after the application in the service
    /// group: a group shuts down in reverse order, so they stop first — a controller that is
    /// stopping never marks nodes lost because it no longer hears them. The audit log's head is
    /// signed every `auditCheckpoint`; terminated instances are removed `retention` after they end,
    /// and history beyond `history` is archived and folded.
    public func loops(
        logger: Logger, auditCheckpoint: Duration = .seconds(60), retention: TimeInterval = Registry.defaultRetention,
        history: RetentionLoop.History = RetentionLoop.History()
    ) -> [any Service] {
        [
            PlacementLoop(cluster: cluster, logger: logger), NodeLoop(cluster: cluster, logger: logger),
            QuotaLoop(cluster: cluster, logger: logger),
            RetentionLoop(cluster: cluster, retention: retention, history: history, logger: logger),
            AuditCheckpointLoop(cluster: cluster, key: ca.key, interval: auditCheckpoint, logger: logger),
            LongPollRelease(cluster: cluster),
        ]
    }

    /// After the service group has stopped: signs the audit log's head a last time (what the
    /// requests answered while stopping wrote), then closes the store.
    public func close() async throws {
        try await cluster.checkpointAudit(key: ca.key, at: Date())
        try await cluster.close()
    }

    /// The router alone, for in-process tests.
    public var testRouter: Router<ControllerContext> { router }
}
