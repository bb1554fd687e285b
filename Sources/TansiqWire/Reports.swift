import Foundation
import TansiqModel

/// `GET /v1/quotas`.
public struct QuotaReport: Sendable, Codable, Equatable {
    /// One ministry's quota and use.
    public struct Item: Sendable, Codable, Equatable {
        public var ministry: String
        public var cohort: String?
        /// `spec.quota`.
        public var nominal: Resources
        /// Nominal plus active grants.
        public var effective: Resources
        /// Most it may borrow from its cohort now.
        public var borrowingLimit: Resources
        /// Replicas × resources of its applications.
        public var admitted: Resources
        /// Placed instances within its quota.
        public var guaranteedInUse: Resources
        /// Placed instances beyond it, borrowed from the cohort.
        public var borrowed: Resources
        /// What it lends the cohort now.
        public var lendable: Resources
        /// Effective quota not yet admitted to an application.
        public var free: Resources
        /// Its weighted dominant share of the cohort's lendable pool, ×1000 rounded down.
        public var fairShare: Int64
        /// Its fair-share weight.
        public var weight: Double
        /// True while critical instances keep it above its effective quota.
        public var overQuota: Bool

        public init(
            ministry: String, cohort: String?, nominal: Resources, effective: Resources, borrowingLimit: Resources,
            admitted: Resources, guaranteedInUse: Resources, borrowed: Resources, lendable: Resources,
            free: Resources, fairShare: Int64 = 0, weight: Double = 1, overQuota: Bool = false
        ) {
            self.fairShare = fairShare
            self.weight = weight
            self.overQuota = overQuota
            self.ministry = ministry
            self.cohort = cohort
            self.nominal = nominal
            self.effective = effective
            self.borrowingLimit = borrowingLimit
            self.admitted = admitted
            self.guaranteedInUse = guaranteedInUse
            self.borrowed = borrowed
            self.lendable = lendable
            self.free = free
        }
    }

    /// One cohort's pool.
    public struct Cohort: Sendable, Codable, Equatable {
        public var name: String
        /// Its members (to a ministry role, only its own ministry: the others' terms are theirs).
        public var members: [String]
        /// What its members lend.
        public var pool: Resources
        /// What its members borrow.
        public var borrowed: Resources

        public init(name: String, members: [String], pool: Resources, borrowed: Resources) {
            self.name = name
            self.members = members
            self.pool = pool
            self.borrowed = borrowed
        }
    }

    /// Quotas against the cluster.
    public struct Overcommit: Sendable, Codable, Equatable {
        /// The sum of effective quotas.
        public var quotas: Resources
        /// The sum of Ready nodes' allocatable capacity.
        public var allocatable: Resources
        /// How far the quotas exceed the capacity (zero when they fit).
        public var shortfall: Resources

        public init(quotas: Resources, allocatable: Resources, shortfall: Resources) {
            self.quotas = quotas
            self.allocatable = allocatable
            self.shortfall = shortfall
        }
    }

    public var items: [Item]
    public var cohorts: [Cohort]
    public var overcommit: Overcommit

    public init(items: [Item], cohorts: [Cohort], overcommit: Overcommit) {
        self.items = items
        self.cohorts = cohorts
        self.overcommit = overcommit
    }
}

/// `GET /v1/capacity`: allocatable, allocated and free capacity, in all and by datacentre and zone.
public struct CapacityReport: Sendable, Codable, Equatable {
    /// One datacentre and zone.
    public struct Domain: Sendable, Codable, Equatable {
        public var datacentre: String
        public var zone: String
        public var nodes: Int
        public var allocatable: Resources
        public var allocated: Resources
        public var free: Resources

        public init(
            datacentre: String, zone: String, nodes: Int, allocatable: Resources, allocated: Resources,
            free: Resources
        ) {
            self.datacentre = datacentre
            self.zone = zone
            self.nodes = nodes
            self.allocatable = allocatable
            self.allocated = allocated
            self.free = free
        }
    }

    /// Totals over Ready nodes.
    public struct Total: Sendable, Codable, Equatable {
        public var nodes: Int
        public var allocatable: Resources
        public var allocated: Resources
        public var free: Resources

        public init(nodes: Int, allocatable: Resources, allocated: Resources, free: Resources) {
            self.nodes = nodes
            self.allocatable = allocatable
            self.allocated = allocated
            self.free = free
        }
    }

    public var total: Total
    public var items: [Domain]

    public init(total: Total, items: [Domain]) {
        self.total = total
        self.items = items
    }
}

/// `GET /v1/usage`: what each ministry used in a period.
public struct UsageReport: Sendable, Codable, Equatable {
    /// Exact totals in integer units (decimal integers of up to 38 digits: 10,000 ministries
    /// holding 1 EiB for 100 years is 3.6·10³¹ byte-seconds), and the same in hours for people.
    public struct Amounts: Sendable, Codable, Equatable {
        public var cpuMillicoreSeconds: Decimal = 0
        public var memoryByteSeconds: Decimal = 0
        public var storageByteSeconds: Decimal = 0
        public var instanceSeconds: Decimal = 0
        public var cpuCoreHours: Double = 0
        public var memoryGiBHours: Double = 0
        public var storageGiBHours: Double = 0
        public var instanceHours: Double = 0

        public init() {}
    }

    /// One ministry's use.
    public struct Item: Sendable, Codable, Equatable {
        public var ministry: String
        public var cpuCoreHours: Double
        public var memoryGiBHours: Double
        public var storageGiBHours: Double
        public var instanceHours: Double
        public var all: Amounts
        public var guaranteed: Amounts
        public var borrowed: Amounts

        public init(
            ministry: String, cpuCoreHours: Double, memoryGiBHours: Double, storageGiBHours: Double,
            instanceHours: Double, all: Amounts, guaranteed: Amounts, borrowed: Amounts
        ) {
            self.ministry = ministry
            self.cpuCoreHours = cpuCoreHours
            self.memoryGiBHours = memoryGiBHours
            self.storageGiBHours = storageGiBHours
            self.instanceHours = instanceHours
            self.all = all
            self.guaranteed = guaranteed
            self.borrowed = borrowed
        }
    }

    public var from: Date
    public var to: Date
    public var items: [Item]
    public var total: Item

    public init(from: Date, to: Date, items: [Item], total: Item) {
        self.from = from
        self.to = to
        self.items = items
        self.total = total
    }
}
