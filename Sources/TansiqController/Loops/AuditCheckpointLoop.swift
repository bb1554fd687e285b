import Crypto
import Foundation
import Logging
import ServiceLifecycle

/// Every `interval`: signs the audit chain's head with the cluster CA's key into a checkpoint
/// record (`Cluster.checkpointAudit`), and once more as the controller stops.
public struct AuditCheckpointLoop: Service {
    let cluster: Cluster
    let key: P256.Signing.PrivateKey
    let interval: Duration
    let logger: Logger

    /// A loop over `cluster`, signing with `key`.
    public init(
        cluster: Cluster, key: P256.Signing.PrivateKey, interval: Duration,
        logger: Logger = Logger(label: "tansiq-controller.audit")
    ) {
        self.cluster = cluster
        self.key = key
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // The wait ends with a graceful shutdown: the last checkpoint is the shutdown's own.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            await round()
        }
    }

    /// One checkpoint now.
    public func round() async {
        do {
            try await cluster.checkpointAudit(key: key, at: Date())
        } catch {
            logger.error("audit checkpoint failed", metadata: ["error": "\(error)"])
        }
    }
}
