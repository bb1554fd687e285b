/// A tenant: a ministry with a quota in the shared pool.
public struct Ministry: Sendable, Hashable, Codable {
    /// `metadata.name` is the ministry's DNS-label name; `ministry` is nil.
    public var metadata: ObjectMeta
    /// What the operator declared.
    public var spec: MinistrySpec
    /// What the controller computed; nil in a manifest.
    public var status: MinistryStatus?

    /// Creates a ministry.
    public init(metadata: ObjectMeta, spec: MinistrySpec, status: MinistryStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// A name in both of the cluster's languages.
public struct LocalizedName: Sendable, Hashable, Codable {
    /// English.
    public var en: String
    /// Arabic.
    public var ar: String
    /// Creates a name.
    public init(en: String, ar: String) {
        self.en = en
        self.ar = ar
    }
}

/// A ministry's declared quota and sharing terms.
public struct MinistrySpec: Sendable, Hashable, Codable {
    /// National government code, `^[A-Z]{2,8}(-[A-Z0-9]{2,12})+$`, unique in the cluster.
    public var code: String
    /// English and Arabic display names.
    public var displayName: LocalizedName
    /// Nominal quota; names all four resources.
    public var quota: Resources
    /// The pool it shares idle quota with; nil: it neither lends nor borrows.
    public var cohort: String?
    /// The most it may borrow beyond its quota, per dimension; unnamed dimensions: whatever the cohort lends.
    public var borrowingLimit: ResourceLimits?
    /// The most of its unused quota others may borrow, per dimension; unnamed: all of it.
    public var lendingLimit: ResourceLimits?
    /// Fair-share weight, positive; default 1.
    public var weight: Double
    /// The priorities its applications may use; default all but `critical`.
    public var priorities: [Priority]

    /// Creates a spec with the manifest defaults.
    public init(
        code: String, displayName: LocalizedName, quota: Resources, cohort: String? = nil,
        borrowingLimit: ResourceLimits? = nil, lendingLimit: ResourceLimits? = nil, weight: Double = 1,
        priorities: [Priority] = Priority.defaultAllowed
    ) {
        self.code = code
        self.displayName = displayName
        self.quota = quota
        self.cohort = cohort
        self.borrowingLimit = borrowingLimit
        self.lendingLimit = lendingLimit
        self.weight = weight
        self.priorities = priorities
    }
}

/// What the controller reports for a ministry.
public struct MinistryStatus: Sendable, Hashable, Codable {
    /// `spec.quota` plus active approved capacity requests.
    public var effectiveQuota: Resources
    /// Requests of instances placed within the effective quota.
    public var guaranteedInUse: Resources
    /// Requests of instances placed beyond it, borrowed from the cohort.
    public var borrowed: Resources
    /// Total request of admitted applications (replicas × resources).
    public var admitted: Resources
    /// The uid and gid its instances run as (given at creation, never reused).
    public var runAs: RunAs?
    /// Its weighted dominant share of its cohort's lendable pool, ×1000 rounded down (DESIGN
    /// rule 10); 0 without a cohort or borrowing.
    public var fairShare: Int64?
    /// True while critical instances, which are never evicted, keep it above its effective quota:
    /// nothing new is admitted until it is back under.
    public var overQuota: Bool?

    /// Creates a status.
    public init(
        effectiveQuota: Resources, guaranteedInUse: Resources = .zero, borrowed: Resources = .zero,
        admitted: Resources = .zero, runAs: RunAs? = nil
    ) {
        self.runAs = runAs
        self.effectiveQuota = effectiveQuota
        self.guaranteedInUse = guaranteedInUse
        self.borrowed = borrowed
        self.admitted = admitted
    }
}
