import TansiqModel

/// The apply-time check: an application's total request (replicas × resources) with the
/// ministry's other admitted applications must stay within effective quota + borrowing limit.
public enum Admission {
    /// The outcome, with the numbers a refusal shows.
    public struct Verdict: Sendable, Equatable {
        /// True when admitted.
        public var admitted: Bool
        /// Total the ministry would have admitted with this application.
        public var needed: Resources
        /// Effective quota.
        public var quota: Resources
        /// Most it may borrow.
        public var borrowingLimit: Resources
        /// Admitted by its other applications, by application key: given with a refusal (empty
        /// when admitted, so a check costs one pass over the ministry's applications).
        public var inUse: [String: Resources]
        /// A sentence for people: what exceeds what.
        public var message: String
    }

    /// Checks `request` (the application's total) against the ministry's terms.
    ///
    /// - Parameters:
    ///   - ministry: the ministry.
    ///   - application: the application's name (excluded from `admitted` when re-applied).
    ///   - request: replicas × per-instance request of the application.
    ///   - critical: true when the application is `critical`: it can never borrow, so its total
    ///     with the ministry's other critical applications must fit the quota alone.
    ///   - admitted: totals of the ministry's other applications, by name, with their criticality.
    ///   - ledger: the quota terms of every ministry.
    public static func check(
        ministry: String, application: String, request: Resources, critical: Bool,
        admitted: [String: (total: Resources, critical: Bool)], ledger: QuotaLedger
    ) -> Verdict {
        var inUse = Resources.zero
        var criticalInUse = Resources.zero
        for (name, other) in admitted where name != application {
            inUse += other.total
            if other.critical { criticalInUse += other.total }
        }
        let needed = inUse + request
        let quota = ledger.terms(of: ministry).quota
        let limit = ledger.borrowingCeiling(ministry)
        var verdict = Verdict(
            admitted: true, needed: needed, quota: quota, borrowingLimit: limit, inUse: [:], message: "")
        func refuse() {
            verdict.admitted = false
            verdict.inUse = admitted.filter { $0.key != application }.mapValues(\.total)
        }
        if !needed.fits(in: quota + limit) {
            let dims = needed.exceeded(in: quota + limit)
            refuse()
            verdict.message =
                "ministry \(ministry) would need \(describe(needed, dims)) but its quota is "
                + "\(describe(quota, dims)) plus \(describe(limit, dims)) it may borrow; "
                + "\(describe(inUse, dims)) is admitted to its other applications"
            return verdict
        }
        if critical {
            let criticalNeeded = criticalInUse + request
            if !criticalNeeded.fits(in: quota) {
                let dims = criticalNeeded.exceeded(in: quota)
                refuse()
                verdict.message =
                    "critical applications of \(ministry) would need \(describe(criticalNeeded, dims)) "
                    + "but its quota is \(describe(quota, dims)) and critical instances never borrow"
            }
        }
        return verdict
    }

    static func describe(_ r: Resources, _ dims: [Resources.Dimension]) -> String {
        dims.map { dim in
            switch dim {
            case .cpu: "cpu \(Quantity.formatCPU(r.cpuMillis))"
            case .memory: "memory \(Quantity.formatBytes(r.memoryBytes))"
            case .storage: "storage \(Quantity.formatBytes(r.storageBytes))"
            case .instances: "\(r.instances) instances"
            }
        }.joined(separator: ", ")
    }
}
