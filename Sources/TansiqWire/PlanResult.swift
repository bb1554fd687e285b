import Foundation
import TansiqModel

/// `POST /v1/plan` answer: what applying the manifests would do now, without doing it — what is
/// admitted (apply's lines, or apply's 422), where each instance of the applied applications
/// would run, what would wait and why, what would be preempted, and each affected ministry's
/// quota use and fair share after. Filtered by role: a ministry role sees its own instances, and
/// of other ministries only that an instance would be preempted (never its id).
public struct PlanResult: Sendable, Codable, Equatable {
    /// An instance placed.
    public struct Placement: Sendable, Codable, Equatable {
        public var instance: String
        public var ministry: String
        public var application: String
        public var node: String
        /// Within quota (true) or borrowed from the cohort (false).
        public var guaranteed: Bool

        public init(instance: String, ministry: String, application: String, node: String, guaranteed: Bool) {
            self.instance = instance
            self.ministry = ministry
            self.application = application
            self.node = node
            self.guaranteed = guaranteed
        }
    }

    /// An instance that would wait.
    public struct Pending: Sendable, Codable, Equatable {
        public var instance: String
        public var ministry: String
        public var application: String
        public var reason: String
        public var reasonCode: PendingReason

        public init(instance: String, ministry: String, application: String, reason: String, reasonCode: PendingReason)
        {
            self.instance = instance
            self.ministry = ministry
            self.application = application
            self.reason = reason
            self.reasonCode = reasonCode
        }
    }

    /// A running instance that would be preempted; of another ministry, without its names.
    public struct Preemption: Sendable, Codable, Equatable {
        public var instance: String?
        public var ministry: String?
        public var application: String?
        public var reason: String

        public init(instance: String?, ministry: String?, application: String?, reason: String) {
            self.instance = instance
            self.ministry = ministry
            self.application = application
            self.reason = reason
        }
    }

    /// A ministry's quota use after the plan.
    public struct Quota: Sendable, Codable, Equatable {
        public var ministry: String
        public var effective: Resources
        public var guaranteed: Resources
        public var borrowed: Resources
        /// ×1000, rounded down.
        public var fairShare: Int64
        public var weight: Double

        public init(
            ministry: String, effective: Resources, guaranteed: Resources, borrowed: Resources, fairShare: Int64,
            weight: Double
        ) {
            self.ministry = ministry
            self.effective = effective
            self.guaranteed = guaranteed
            self.borrowed = borrowed
            self.fairShare = fairShare
            self.weight = weight
        }
    }

    /// Apply's answer, as a dry run would give it.
    public var items: [ApplyItem]
    public var warnings: [String]
    public var placements: [Placement]
    public var pending: [Pending]
    public var preemptions: [Preemption]
    public var quotas: [Quota]

    public init(
        items: [ApplyItem], warnings: [String], placements: [Placement], pending: [Pending],
        preemptions: [Preemption], quotas: [Quota]
    ) {
        self.items = items
        self.warnings = warnings
        self.placements = placements
        self.pending = pending
        self.preemptions = preemptions
        self.quotas = quotas
    }
}
