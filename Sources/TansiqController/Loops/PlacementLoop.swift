import Foundation
import Logging
import ServiceLifecycle
import TansiqModel
import TansiqScheduler

/// Places pending instances: after every commit (and every second, for what time changes), it
/// plans the pending instances with the scheduler on a snapshot of the cluster, and commits the
/// plan through `Registry.planPlacement`, which re-checks it against the latest state. Nodes
/// learn of their new instances through their assignment long polls.
public struct PlacementLoop: Service {
    let cluster: Cluster
    let options: SchedulerOptions
    let now: @Sendable () -> Date
    let logger: Logger

    /// A loop over `cluster`, scheduling with `options`.
    public init(
        cluster: Cluster, options: SchedulerOptions = SchedulerOptions(),
        now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger = Logger(label: "tansiq-controller.placement")
    ) {
        self.cluster = cluster
        self.options = options
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let changes = await cluster.subscribe()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in changes { wake.yield() }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    wake.yield()
                }
            }
            group.addTask {
                for await _ in wakes.cancelOnGracefulShutdown() { await placeOnce() }
            }
            await group.next()
            group.cancelAll()
        }
        wake.finish()
    }

    /// One round: plan what is pending and commit the plan. Returns how many were placed.
    @discardableResult
    public func placeOnce() async -> Int {
        let registry = await cluster.current
        let pending = registry.pending
        guard !pending.isEmpty else { return 0 }
        let now = now()
        let heartbeats = cluster.heartbeats
        let ready = { @Sendable (node: Node) in
            heartbeats.view(node, in: registry, now: now).phase == .ready
        }
        let (snapshot, requests) = registry.schedulingInput(now: now, ready: ready)
        let plan = Scheduler.plan(snapshot, requests, options: options)
        if plan.assignments.isEmpty && plan.preemptions.isEmpty
            && plan.unplaced.allSatisfy({ registry.state.instances[$0.instance]?.reason == $0.reason })
        {
            return 0
        }
        do {
            return try await cluster.systemChange(by: "scheduler", at: now) { latest in
                latest.planPlacement(plan, now: now) { node in
                    heartbeats.view(node, in: latest, now: now).phase == .ready
                }
            } ?? 0
        } catch {
            logger.error("placement failed", metadata: ["error": "\(error)"])
            return 0
        }
    }
}
