import Foundation
import Logging
import ServiceLifecycle
import TansiqModel

/// Keeps instances where they should be: every `tick` it applies `Registry.planNodeFailures`
/// with an eviction budget refilled at `evictionsPerSecond` up to `evictionBurst` nodes, moves
/// instances off draining nodes (`Registry.planDrainRound`) and advances rollouts
/// (`Registry.planRolloutRound`).
public struct NodeLoop: Service {
    let cluster: Cluster
    let now: @Sendable () -> Date
    let tick: Duration
    let evictionsPerSecond: Double
    let evictionBurst: Double
    let logger: Logger

    /// A loop over `cluster`.
    public init(
        cluster: Cluster, now: @escaping @Sendable () -> Date = Date.init, tick: Duration = .milliseconds(500),
        evictionsPerSecond: Double = 1, evictionBurst: Double = 10,
        logger: Logger = Logger(label: "tansiq-controller.nodes")
    ) {
        self.cluster = cluster
        self.now = now
        self.tick = tick
        self.evictionsPerSecond = evictionsPerSecond
        self.evictionBurst = evictionBurst
        self.logger = logger
    }

    public func run() async throws {
        var tokens = evictionBurst
        var last = now()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: tick)
            let time = now()
            tokens = min(evictionBurst, tokens + time.timeIntervalSince(last) * evictionsPerSecond)
            last = time
            let used = await round(at: time, budget: Int(tokens))
            tokens -= Double(used)
            await drain(at: time)
            await rollout(at: time)
            await finishTakeDowns(at: time)
        }
    }

    /// Lets go of the Terminating instances the gateways no longer send requests to (or whose
    /// drain timeout has passed).
    public func finishTakeDowns(at time: Date) async {
        let gateways = cluster.gateways
        _ = await cluster.round("take-down", at: time, logger: logger) {
            $0.planFinishTakeDowns(now: time, gateways: gateways.list(), settled: gateways.settled(at: time))
        }
    }

    /// One round of rollouts at `time`.
    public func rollout(at time: Date) async {
        guard
            let progress = await cluster.round("rollout", at: time, logger: logger, { $0.planRolloutRound(now: time) })
        else { return }
        for app in progress.completed { logger.info("rollout complete", metadata: ["application": "\(app)"]) }
        for app in progress.failed { logger.warning("rollout failed", metadata: ["application": "\(app)"]) }
    }

    /// One round of draining at `time`.
    public func drain(at time: Date) async {
        guard let progress = await cluster.round("drain", at: time, logger: logger, { $0.planDrainRound(now: time) })
        else { return }
        for node in progress.drained { logger.info("node drained", metadata: ["node": "\(node)"]) }
    }

    /// One round at `time`; returns how many nodes were evicted.
    @discardableResult
    public func round(at time: Date, budget: Int) async -> Int {
        let heartbeats = cluster.heartbeats
        let lastHeard = { @Sendable (node: String) in heartbeats.last(node) ?? heartbeats.startedAt }
        guard
            let report = await cluster.round(
                "node-lifecycle", at: time, logger: logger,
                { $0.planNodeFailures(now: time, budget: budget, lastHeard: lastHeard) })
        else { return 0 }
        for node in report.notReady { logger.warning("node NotReady", metadata: ["node": "\(node)"]) }
        for node in report.evicted { logger.warning("instances of node lost", metadata: ["node": "\(node)"]) }
        return report.evicted.count
    }
}
