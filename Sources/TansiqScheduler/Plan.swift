import TansiqModel

/// What the scheduler decided: placements, evictions, and why the rest stays pending.
public struct Plan: Sendable, Equatable {
    /// An instance put on a node.
    public struct Assignment: Sendable, Equatable {
        /// The instance.
        public var instance: String
        /// The node.
        public var node: String
        /// Within quota (true) or borrowed (false).
        public var guaranteed: Bool
    }

    /// An instance evicted to make room.
    public struct Preemption: Sendable, Equatable {
        /// The evicted instance.
        public var victim: String
        /// The instance it makes room for; nil when a quota shrank and borrowers gave capacity back.
        public var preemptor: String?
        /// A sentence: who and why.
        public var reason: String
    }

    /// An instance that stays pending.
    public struct Unplaced: Sendable, Equatable {
        /// The instance.
        public var instance: String
        /// Why, aggregated over nodes: "0/10 nodes: 6 insufficient memory, 4 cordoned".
        public var reason: String
        /// Why, as a stable code.
        public var code: PendingReason

        public init(instance: String, reason: String, code: PendingReason) {
            self.instance = instance
            self.reason = reason
            self.code = code
        }
    }

    /// Placements in decision order.
    public var assignments: [Assignment] = []
    /// Evictions in decision order.
    public var preemptions: [Preemption] = []
    /// Pending instances with their reasons.
    public var unplaced: [Unplaced] = []

    /// An empty plan.
    public init() {}
}
