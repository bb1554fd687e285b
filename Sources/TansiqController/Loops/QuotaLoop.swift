import Foundation
import Logging
import ServiceLifecycle
import TansiqModel

/// Every second: ends expired capacity grants and keeps every ministry within its effective
/// quota (`Registry.planQuotaEnforcement`).
public struct QuotaLoop: Service {
    let cluster: Cluster
    let now: @Sendable () -> Date
    let logger: Logger

    /// A loop over `cluster`.
    public init(
        cluster: Cluster, now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger = Logger(label: "tansiq-controller.quotas")
    ) {
        self.cluster = cluster
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .seconds(1))
            await round()
        }
    }

    /// One round now.
    public func round() async {
        let time = now()
        guard
            let report = await cluster.round(
                "quota-enforcement", at: time, logger: logger, { $0.planQuotaEnforcement(now: time) })
        else { return }
        if !report.expired.isEmpty || !report.preempted.isEmpty {
            logger.info(
                "quota enforcement",
                metadata: [
                    "expired": "\(report.expired)", "preempted": "\(report.preempted)",
                    "borrowed": "\(report.borrowed)",
                ])
        }
    }
}
