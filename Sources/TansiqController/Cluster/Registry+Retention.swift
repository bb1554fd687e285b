import Foundation
import TansiqModel
import TansiqStore

extension Registry {
    /// The default of `run --retention`: how long terminated instances are kept.
    public static let defaultRetention: TimeInterval = 24 * 3600

    /// What a retention round did.
    public struct RetentionReport: Sendable, Equatable {
        /// Terminated instances removed (their retention was over).
        public var removed: [String] = []
        /// Terminated instances that had no end time yet (ended before it was recorded, or
        /// reported Stopped by their agent): their retention starts now.
        public var stamped: [String] = []
    }

    /// Removes the instances that ended (Lost, Preempted, Stopped) `retention` or longer before
    /// `now`, from memory and from the store; their usage intervals and events keep the history.
    /// A terminated instance without an end time gets `now` as its end. Pure: the clock is given.
    public func planRetention(now: Date, retention: TimeInterval) -> Outcome<RetentionReport> {
        var report = RetentionReport()
        var mutations: [Mutation] = []
        for instance in state.instances.values where instance.phase.isTerminal {
            guard let ended = instance.endedAt else {
                var stamped = instance
                stamped.endedAt = RFC3339.truncated(now)
                mutations.append(.putInstance(stamped))
                report.stamped.append(instance.id)
                continue
            }
            if now.timeIntervalSince(ended) >= retention {
                mutations.append(.deleteInstance(instance.id))
                report.removed.append(instance.id)
            }
        }
        return Outcome(
            changeset: Changeset(
                basedOn: state.resourceVersion,
                resourceVersion: mutations.isEmpty ? nil : state.resourceVersion + 1, mutations: mutations),
            value: report)
    }
}
