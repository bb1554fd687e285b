import Foundation
import TansiqModel
import TansiqScheduler
import TansiqStore

/// What one round of quota enforcement did.
public struct QuotaEnforcement: Sendable, Equatable {
    /// Capacity requests whose grant ended.
    public var expired: [String] = []
    /// Instances that stayed, now borrowed from the cohort.
    public var borrowed: [String] = []
    /// Instances preempted (and replaced) because no quota covers them any more.
    public var preempted: [String] = []
    /// Ministries that critical instances keep above their effective quota.
    public var overQuota: [String] = []
}

extension Registry {
    /// Ends grants whose `until` has passed, then brings every ministry's guaranteed instances
    /// back within its effective quota: lowest priority first, then newest, an instance beyond it
    /// becomes borrowed where the cohort can lend it, else it is preempted and replaced by a
    /// pending one (which waits for quota). A `critical` instance is never evicted (DESIGN rule
    /// 5): a ministry that critical instances keep above its quota reads `overQuota`, gets an
    /// event, and is admitted nothing new until it is back under. Never silently over quota.
    public func planQuotaEnforcement(now: Date) -> Outcome<QuotaEnforcement> {
        var report = QuotaEnforcement()
        var next = state
        var mutations: [Mutation] = []
        var events: [Event] = []
        let stamp = RFC3339.truncated(now)
        for request in state.capacityRequests.values.sorted(by: { $0.metadata.name < $1.metadata.name }) {
            guard request.status?.phase == .approved, let until = request.spec.until, until <= now else { continue }
            var expired = request
            expired.status?.phase = .expired
            expired.metadata.updatedAt = stamp
            next.capacityRequests[request.metadata.name] = expired
            mutations.append(.putCapacityRequest(expired))
            report.expired.append(request.metadata.name)
            events.append(
                Event(
                    time: stamp, kind: "CapacityRequest", ministry: request.metadata.ministry,
                    name: request.metadata.name, reason: "Expired",
                    message: "the grant of \(request.spec.add.asResources.summary) ended at \(RFC3339.format(until))"))
        }
        var ledger = Self.usageLedger(of: next, now: now)
        // Only a ministry above its quota has instances to move: the others' (almost always all of
        // them) are neither gathered nor sorted, every second, at any size.
        let above = Set(
            ledger.guaranteed.filter { ministry, used in !used.fits(in: ledger.terms(of: ministry).quota) }.keys)
        var placed: [String: [(serial: Int64, instance: Instance)]] = [:]
        if !above.isEmpty {
            for ids in next.instanceIDsByNode.values {
                for id in ids {
                    guard let instance = next.instances[id], above.contains(instance.ministry),
                        Self.isAssigned(instance), instance.guaranteed, instance.priority != .critical
                    else { continue }
                    placed[instance.ministry, default: []].append((Self.serial(of: id), instance))
                }
            }
        }
        var serial = state.instanceSerial
        for ministry in placed.keys.sorted() {
            let quota = ledger.terms(of: ministry).quota
            let order = placed[ministry]!.sorted {
                ($0.instance.priority.rank, -$0.serial) < ($1.instance.priority.rank, -$1.serial)
            }
            .map(\.instance)
            for instance in order where !(ledger.guaranteed[ministry] ?? .zero).fits(in: quota) {
                let request = instance.resources.vector
                ledger.remove(ministry, request, guaranteed: true)
                var changed = instance
                if case .borrowed = ledger.decide(ministry, request, priority: instance.priority) {
                    ledger.add(ministry, request, guaranteed: false)
                    changed.guaranteed = false
                    changed.assignedAt = stamp  // a borrowed interval begins
                    report.borrowed.append(instance.id)
                    events.append(
                        Event(
                            time: stamp, kind: "Instance", ministry: ministry, name: instance.id, reason: "Borrowed",
                            message: "beyond the effective quota of ministry \(ministry); now borrowed from its cohort")
                    )
                } else {
                    changed = changed.ended(
                        .preempted,
                        reason: "beyond the effective quota of ministry \(ministry), and the cohort cannot lend it",
                        at: stamp)
                    serial += 1
                    let replacement = instance.replacement(
                        serial: serial, reason: "replaces \(instance.id), preempted over quota", at: stamp)
                    next.put(replacement)
                    mutations.append(.putInstance(replacement))
                    report.preempted.append(instance.id)
                    events.append(
                        Event(
                            time: stamp, kind: "Instance", ministry: ministry, name: instance.id, reason: "Preempted",
                            message: "\(changed.reason ?? ""); replaced by \(replacement.id)"))
                }
                next.put(changed)
                mutations.append(.putInstance(changed))
            }
        }
        // Only critical instances can be left above the quota: say so, once, when it starts and ends.
        for name in next.ministries.keys.sorted() {
            guard var ministry = next.ministries[name] else { continue }
            let over = !(ledger.guaranteed[name] ?? .zero).fits(in: ledger.terms(of: name).quota)
            if over { report.overQuota.append(name) }
            guard over != (ministry.status?.overQuota ?? false) else { continue }
            var status = ministry.status ?? MinistryStatus(effectiveQuota: ledger.terms(of: name).quota)
            status.overQuota = over
            ministry.status = status
            ministry.metadata.resourceVersion = state.resourceVersion + 1
            next.ministries[name] = ministry
            mutations.append(.putMinistry(ministry))
            events.append(
                Event(
                    time: stamp, kind: "Ministry", ministry: name, name: name,
                    reason: over ? "OverQuota" : "BackWithinQuota",
                    message: over
                        ? "critical instances, which are never evicted, keep ministry \(name) above its effective quota "
                            + "(\((ledger.guaranteed[name] ?? .zero).summary) of \(ledger.terms(of: name).quota.summary)); "
                            + "nothing new is admitted until it is back under"
                        : "ministry \(name) is back within its effective quota"))
        }
        let moves = !mutations.isEmpty
        return Outcome(
            changeset: Changeset(
                basedOn: state.resourceVersion, resourceVersion: moves ? state.resourceVersion + 1 : nil,
                instanceSerial: serial == state.instanceSerial ? nil : serial, mutations: mutations, events: events),
            value: report)
    }
}
