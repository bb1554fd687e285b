import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import TansiqModel
import TansiqScheduler

/// Places pending instances: after every commit (and every second, for what time changes), it
/// plans the pending instances with the scheduler, and commits the plan through
/// `Registry.planPlacement`, which re-checks it against the latest state. The scheduler is kept
/// from round to round while it still holds what the cluster holds (`KeptScheduler`), and built
/// again from a snapshot when not. Nodes learn of their new instances through their assignment
/// long polls.
public struct PlacementLoop: Service {
    let cluster: Cluster
    /// The scheduler of the last round, while it holds what the cluster holds.
    let kept: KeptScheduler
    /// What the last round left unplaced, and the capacity it saw: while the capacity is the
    /// same, those are not planned again (they would find no place again), so a backlog of
    /// unplaceable instances costs nothing per commit.
    private let memory = Memory()

    final class Memory: @unchecked Sendable {
        private let lock = NSLock()
        private var fingerprint: Int?
        private var unplaced: Set<String> = []

        /// True when the last round saw this capacity.
        func knows(_ fingerprint: Int) -> Bool { lock.withLock { self.fingerprint == fingerprint } }

        /// Ids the last round could not place, under `fingerprint`.
        func skip(_ fingerprint: Int) -> Set<String> {
            lock.withLock { self.fingerprint == fingerprint ? unplaced : [] }
        }

        func remember(_ fingerprint: Int, unplaced ids: [String]) {
            lock.withLock {
                if self.fingerprint != fingerprint { unplaced = [] }
                self.fingerprint = fingerprint
                unplaced.formUnion(ids)
            }
        }
    }
    let options: SchedulerOptions
    /// Rounds shorter than this are not paced (a small cluster places at once).
    static let pacingThreshold = Duration.milliseconds(5)
    /// The longest pause after a round.
    static let longestPause = Duration.milliseconds(100)
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
        self.kept = KeptScheduler(options: options)
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
                // A round costs what the cluster holds (a snapshot of it, checked again at commit),
                // not what changed: after a round that took a while, a pause as long (at most
                // 100 ms) lets what arrives meanwhile — the next apply, statuses — be placed in one
                // larger round instead of a round each.
                for await _ in wakes.cancelOnGracefulShutdown() {
                    let started = ContinuousClock.now
                    await placeOnce()
                    let took = ContinuousClock.now - started
                    if took > Self.pacingThreshold { try? await Task.sleep(for: min(took, Self.longestPause)) }
                }
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
        guard !registry.state.unplacedInstanceIDs.isEmpty else { return 0 }
        let now = now()
        let heartbeats = cluster.heartbeats
        let ready = { @Sendable (node: Node) in
            heartbeats.isReady(node, in: registry, now: now)
        }
        let terms = registry.termsFingerprint(now: now, ready: ready)
        let fingerprint = registry.capacityFingerprint(terms: terms)
        let fresh = await cluster.takeFreshPending()
        let skip = memory.skip(fingerprint)
        // Same capacity as the last round: only what was committed as Pending since needs a plan;
        // what the last round could not place would find no place again.
        let candidates = memory.knows(fingerprint) ? fresh.subtracting(skip) : nil
        if let candidates, candidates.isEmpty { return 0 }
        let requests = registry.schedulingRequests(only: candidates)
        guard !requests.isEmpty else {
            memory.remember(fingerprint, unplaced: [])
            return 0
        }
        let key = KeptScheduler.Key(schedulingRevision: registry.schedulingRevision, terms: terms)
        let scheduler = kept.take(key, registry: registry, now: now, ready: ready)
        let plan = scheduler.schedule(requests)
        memory.remember(fingerprint, unplaced: plan.unplaced.map(\.instance))
        if plan.assignments.isEmpty && plan.preemptions.isEmpty
            && plan.unplaced.allSatisfy({ registry.state.instances[$0.instance]?.reason == $0.reason })
        {
            kept.keep(scheduler, as: key)
            return 0
        }
        // What the scheduler is consistent with once the plan is committed, as the applier's
        // last planning of it says (the cluster may preview it first, then plan it in its queue);
        // nothing when the commit failed.
        let after = NIOLockedValueBox<KeptScheduler.Key?>(nil)
        let result = await cluster.round(
            "scheduler", at: now, logger: logger, failed: { after.withLockedValue { $0 = nil } }
        ) { latest in
            let outcome = latest.planPlacement(plan, now: now, plannedOn: registry.schedulingRevision) { node in
                heartbeats.isReady(node, in: latest, now: now)
            }
            let next = KeptScheduler.key(after: outcome, on: latest, plannedOn: key)
            after.withLockedValue { $0 = next }
            return outcome
        }
        if let next = after.withLockedValue({ $0 }) { kept.keep(scheduler, as: next) }
        return result?.placed ?? 0
    }
}
