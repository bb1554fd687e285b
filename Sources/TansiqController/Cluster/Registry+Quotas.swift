import Foundation
import TansiqAPI
import TansiqModel
import TansiqScheduler
import TansiqStore

/// The shortfall of capacity behind the quotas.
enum Overcommit {
    static func shortfall(of state: StoredState, now: Date, allocatable: Resources) -> Resources {
        (quotas(of: state, now: now) - allocatable).nonNegative
    }

    static func quotas(of state: StoredState, now: Date) -> Resources {
        state.ministries.values.reduce(Resources.zero) {
            $0 + Registry.effectiveQuota(of: $1, requests: state.capacityRequests.values, now: now)
        }
    }
}

extension Registry {
    /// The quota report, with the ministries `caller` may read; cohorts list only such members
    /// (and the whole pool of a cohort the caller belongs to).
    public func quotaReport(for caller: Caller, now: Date) -> QuotaReport {
        let ledger = usageLedger(now: now)
        let visible = state.ministries.values.filter { Access.canRead(caller, ministry: $0.metadata.name) }
            .sorted { $0.metadata.name < $1.metadata.name }
        let items = visible.map { ministry in
            let name = ministry.metadata.name
            let effective = ledger.terms(of: name).quota
            let admitted = Self.admitted(of: name, in: state).values.reduce(Resources.zero) { $0 + $1.total }
            return QuotaReport.Item(
                ministry: name, cohort: ministry.spec.cohort, nominal: ministry.spec.quota, effective: effective,
                borrowingLimit: ledger.borrowingCeiling(name), admitted: admitted,
                guaranteedInUse: ledger.guaranteed[name] ?? .zero, borrowed: ledger.borrowed[name] ?? .zero,
                lendable: ledger.lendable(name), free: (effective - admitted).nonNegative,
                fairShare: ledger.fairShare(name).perMille, weight: ministry.spec.weight,
                overQuota: ministry.status?.overQuota ?? false)
        }
        let cohortNames = Set(visible.compactMap(\.spec.cohort)).sorted()
        let cohorts = cohortNames.map { cohort in
            QuotaReport.Cohort(
                name: cohort,
                members: (ledger.cohorts[cohort] ?? []).filter { Access.canRead(caller, ministry: $0) }.sorted(),
                pool: ledger.pool(cohort), borrowed: ledger.borrowedTotal(cohort))
        }
        let quotas = Overcommit.quotas(of: state, now: now)
        return QuotaReport(
            items: items, cohorts: cohorts,
            overcommit: QuotaReport.Overcommit(
                quotas: quotas, allocatable: allocatable, shortfall: (quotas - allocatable).nonNegative))
    }

    /// Every ministry's quota terms with the placed instances counted, guaranteed and borrowed.
    public func usageLedger(now: Date) -> QuotaLedger {
        Self.usageLedger(of: state, now: now)
    }

    /// `usageLedger(now:)` of `state`: the quota terms, and what is placed from the sums the state
    /// keeps by ministry.
    static func usageLedger(of state: StoredState, now: Date) -> QuotaLedger {
        var ledger = Self.ledger(of: state, now: now)
        for (ministry, usage) in state.usage {
            if usage.guaranteedCount > 0 { ledger.add(ministry, usage.guaranteed, guaranteed: true) }
            if usage.borrowedCount > 0 { ledger.add(ministry, usage.borrowed, guaranteed: false) }
        }
        return ledger
    }

    /// A ministry with its status filled in (`ledger`: `usageLedger(now:)`, made once for many).
    public func withStatus(_ ministry: Ministry, now: Date, ledger: QuotaLedger? = nil) -> Ministry {
        var ministry = ministry
        let name = ministry.metadata.name
        let stored = ministry.status
        let ledger = ledger ?? usageLedger(now: now)
        ministry.status = MinistryStatus(
            effectiveQuota: effectiveQuota(of: ministry, now: now), guaranteedInUse: ledger.guaranteed[name] ?? .zero,
            borrowed: ledger.borrowed[name] ?? .zero,
            admitted: Self.admitted(of: name, in: state).values.reduce(Resources.zero) { $0 + $1.total },
            runAs: ministry.status?.runAs)
        ministry.status?.fairShare = ledger.fairShare(name).perMille
        ministry.status?.overQuota = stored?.overQuota ?? false
        return ministry
    }

    /// An application with its status filled in from its instances: desired, ready, updated
    /// (of the target generation), available (ready and updated), the oldest generation still
    /// running, and the rollout's state as the rollout loop left it.
    public func withStatus(_ app: Application) -> Application {
        var app = app
        let active = instances(ministry: app.metadata.ministry ?? "", application: app.metadata.name, in: state)
            .filter { !$0.phase.isTerminal }
        let stored = app.status
        let target = stored?.targetGeneration ?? app.metadata.generation ?? 1
        let ready = active.filter(isReady)
        app.status = ApplicationStatus(
            desired: app.spec.replicas, ready: ready.count, updated: active.filter { $0.generation == target }.count,
            available: ready.filter { $0.generation == target }.count,
            currentGeneration: active.map(\.generation).min() ?? target, targetGeneration: target,
            rollout: stored?.rollout ?? "Complete", message: stored?.message, progressAt: stored?.progressAt,
            imageDigest: stored?.imageDigest)
        return app
    }
}
