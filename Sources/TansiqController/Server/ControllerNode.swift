import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import TansiqRegistry
import TansiqStore

/// A controller process: its store (SQLite in the data directory, or PostgreSQL shared with other
/// controllers), its part in the leadership (`Leadership`), and the HTTPS server in front of it,
/// which serves while leading and forwards to the leader while following.
public struct ControllerNode: Sendable {
    /// Who leads, and this controller's term when it does.
    public let leadership: Leadership
    /// The HTTPS server.
    public let application: any Service

    /// Opens the store `storeURL` names (nil: SQLite in `dataDir`) and builds the controller;
    /// takes the lead if it is free, before the server accepts connections. Throws when the data
    /// directory or the store cannot be used.
    public static func open(
        dataDir: DataDirectory, storeURL: String?, settings: Leadership.Settings, listen: (host: String, port: Int),
        idleTimeout: TimeAmount, registry: RegistryAccess, throttle: AuthThrottle, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) async throws -> ControllerNode {
        guard dataDir.isInitialised else { throw DataDirectoryError.notInitialised(dataDir.path) }
        let ca = try dataDir.certificateAuthority()
        let store: any Store
        let keeper: any LeaseKeeper
        let forwarder: Forwarder?
        if let storeURL {
            var storeLogger = logger
            storeLogger.logLevel = max(logger.logLevel, .notice)
            let postgres = try await PostgresStore(
                url: try PostgresURL(storeURL), requireFence: true, maxEvents: settings.maxEvents, logger: storeLogger)
            store = postgres
            keeper = postgres
            forwarder = try Forwarder(
                caFile: dataDir.caCertificate, identity: try Forwarding.identity(ca: ca, now: Date()))
        } else {
            guard FileManager.default.fileExists(atPath: dataDir.database) else {
                throw DataDirectoryError.storeElsewhere(dataDir.path)
            }
            store = try SQLiteStore(path: dataDir.database, maxEvents: settings.maxEvents)
            keeper = SoleLease(url: settings.advertise)
            forwarder = nil
        }
        let leadership = Leadership(
            store: store, keeper: keeper, dataDir: dataDir, forwarder: forwarder, settings: settings,
            metrics: .bootstrap(), ca: ca,
            registry: try RegistryClient(access: registry), throttle: throttle, logger: logger)
        await leadership.start()
        let application = try ControllerServer.application(
            responder: leadership.gate, host: listen.host, port: listen.port,
            tls: try ControllerServer.tlsConfiguration(dataDir: dataDir), logger: logger, idleTimeout: idleTimeout,
            onRunning: onRunning)
        return ControllerNode(leadership: leadership, application: application)
    }
}
