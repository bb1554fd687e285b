import Foundation
import TansiqModel
import TansiqScheduler

/// The scheduler the placement loop keeps from one round to the next.
///
/// Building a scheduler costs what the cluster holds: a snapshot of every node and placed
/// instance, then the scheduler's indexes over them (at 10,000 nodes and 95,000 instances placed,
/// most of a round). The scheduler that made the last round's plan already holds the cluster as
/// that plan left it, so it plans the next round alone as long as nothing it holds changed in
/// another way since. That is its `Key`:
/// - no commit changed a placed instance or an application's constraints but its own plan
///   (`Registry.schedulingRevision`);
/// - the nodes and quota terms are the ones it planned on (`Registry.termsFingerprint`, taken
///   each round: readiness and grants change with the clock alone);
/// - its plan was committed as made (`PlacementResult.asPlanned`) on a state nothing else had
///   changed for it since it planned (`key(after:on:plannedOn:)`).
/// Otherwise the next round builds a new one from a snapshot.
public final class KeptScheduler: @unchecked Sendable {
    /// What a kept scheduler is consistent with.
    public struct Key: Hashable, Sendable {
        /// The registry's `schedulingRevision`.
        public var schedulingRevision: Int
        /// The registry's `termsFingerprint`.
        public var terms: Int

        /// A key.
        public init(schedulingRevision: Int, terms: Int) {
            self.schedulingRevision = schedulingRevision
            self.terms = terms
        }
    }

    private let lock = NSLock()
    private var kept: (scheduler: Scheduler, key: Key)?
    private var built = 0
    let options: SchedulerOptions

    /// Keeps schedulers with `options`.
    public init(options: SchedulerOptions = SchedulerOptions()) {
        self.options = options
    }

    /// How many schedulers `take` has built from a snapshot.
    public var builds: Int { lock.withLock { built } }

    /// A scheduler that holds what `registry` holds: the kept one when it was kept as `key`,
    /// else one built from a snapshot of `registry`. Either way it is taken out: until it is
    /// kept again, another round builds its own.
    public func take(_ key: Key, registry: Registry, now: Date, ready: (Node) -> Bool) -> Scheduler {
        let taken: Scheduler? = lock.withLock {
            defer { kept = nil }
            guard let kept, kept.key == key else { return nil }
            return kept.scheduler
        }
        if let taken { return taken }
        lock.withLock { built += 1 }
        return Scheduler(snapshot: registry.schedulingSnapshot(now: now, ready: ready), options: options)
    }

    /// Keeps `scheduler` for the next round, consistent with a registry of `key`.
    public func keep(_ scheduler: Scheduler, as key: Key) {
        lock.withLock { kept = (scheduler, key) }
    }

    /// The key the scheduler that planned on a registry of `key` is consistent with once
    /// `outcome` — its plan, as the plan applier made it on `latest` — is applied; nil when it
    /// would not be: the plan was not taken as made, or something else changed what the
    /// scheduler holds after it planned.
    public static func key(
        after outcome: Registry.Outcome<PlacementResult>, on latest: Registry, plannedOn key: Key
    ) -> Key? {
        guard outcome.value.asPlanned, latest.schedulingRevision == key.schedulingRevision else { return nil }
        return Key(schedulingRevision: latest.schedulingRevision(after: outcome.changeset), terms: key.terms)
    }
}
