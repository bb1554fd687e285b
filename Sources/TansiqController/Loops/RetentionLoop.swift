import Foundation
import Logging
import ServiceLifecycle

/// Removes terminated instances once `retention` has passed since they ended
/// (`Registry.planRetention`), checking a tenth of the retention apart, at least every second
/// and at most every minute; in the same rounds, moves the audit records older than
/// `history.auditArchiveAfter` to the archive (through the last checkpoint among them) and folds
/// the usage intervals that ended more than `history.usageDetail` ago into days, so that the
/// store's size levels off however long the controller runs; and at the end of each round, hands
/// the allocator's free pages back to the kernel (`MemoryRelease`), so that its memory does too.
public struct RetentionLoop: Service {
    /// How long history is kept in detail in the store.
    public struct History: Sendable {
        /// Audit records older than this leave the store for the archive (`run --audit-archive-after`).
        public var auditArchiveAfter: TimeInterval
        /// Usage intervals that ended longer ago than this are kept per ministry and day
        /// (`run --usage-detail`).
        public var usageDetail: TimeInterval

        /// The defaults: 7 days of audit records and 35 days of usage intervals in the store.
        public init(auditArchiveAfter: TimeInterval = 7 * 86400, usageDetail: TimeInterval = 35 * 86400) {
            self.auditArchiveAfter = auditArchiveAfter
            self.usageDetail = usageDetail
        }
    }

    let cluster: Cluster
    let retention: TimeInterval
    let history: History
    let now: @Sendable () -> Date
    let logger: Logger

    /// A loop over `cluster`.
    public init(
        cluster: Cluster, retention: TimeInterval, history: History = History(),
        now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger = Logger(label: "tansiq-controller.retention")
    ) {
        self.cluster = cluster
        self.retention = retention
        self.history = history
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
        if let report = await cluster.round(
            "retention", at: time, logger: logger, { $0.planRetention(now: time, retention: retention) }),
            !report.removed.isEmpty
        {
            logger.info("terminated instances removed", metadata: ["count": "\(report.removed.count)"])
        }
        await compact(at: time)
        let started = ContinuousClock.now
        let released = MemoryRelease.trim()
        let took = ContinuousClock.now - started
        // A trim holds each arena's lock while it walks it: say so when that is long enough to notice.
        logger.log(
            level: took >= .milliseconds(100) ? .notice : .debug, "free memory returned to the system",
            metadata: ["released": "\(released)", "took": "\(took)"])
    }

    /// Archives the audit records and folds the usage intervals past their detail.
    func compact(at time: Date) async {
        do {
            var archived = 0
            while true {
                let moved = try await cluster.archiveAudit(before: time.addingTimeInterval(-history.auditArchiveAfter))
                archived += moved
                if moved < Cluster.auditArchiveBatch { break }
            }
            if archived > 0 { logger.info("audit records archived", metadata: ["count": "\(archived)"]) }
        } catch {
            logger.warning("cannot archive the audit log", metadata: ["error": "\(error)"])
        }
        do {
            let folded = try await cluster.rollUpUsage(endedBefore: time.addingTimeInterval(-history.usageDetail))
            if folded > 0 { logger.info("usage intervals folded into days", metadata: ["count": "\(folded)"]) }
        } catch {
            logger.warning("cannot fold usage into days", metadata: ["error": "\(error)"])
        }
    }
}
