import Foundation
import Logging
import ServiceLifecycle

/// Removes terminated instances once `retention` has passed since they ended
/// (`Registry.planRetention`), checking a tenth of the retention apart, at least every second
/// and at most every minute.
public struct RetentionLoop: Service {
    let cluster: Cluster
    let retention: TimeInterval
    let now: @Sendable () -> Date
    let logger: Logger

    /// A loop over `cluster`.
    public init(
        cluster: Cluster, retention: TimeInterval, now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger = Logger(label: "tansiq-controller.retention")
    ) {
        self.cluster = cluster
        self.retention = retention
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        let interval = Duration.milliseconds(Int64(min(60, max(1, retention / 10)) * 1000))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            await round()
        }
    }

    /// One round now.
    public func round() async {
        let time = now()
        guard
            let report = await cluster.round(
                "retention", at: time, logger: logger, { $0.planRetention(now: time, retention: retention) })
        else { return }
        if !report.removed.isEmpty {
            logger.info("terminated instances removed", metadata: ["count": "\(report.removed.count)"])
        }
    }
}
