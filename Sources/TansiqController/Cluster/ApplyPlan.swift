import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel
import TansiqScheduler
import TansiqStore

/// The working copy of one apply: the state as it would be, and the mutations that make it so.
struct ApplyPlan {
    var next: StoredState
    let version: Int64
    private(set) var serial: Int64
    var mutations: [Mutation] = []
    var events: [Event] = []
    let now: Date
    let caller: Caller
    /// Applications whose admitted total grew (or that became critical): they need admission.
    private var grown: [(ministry: String, name: String)] = []

    /// The cluster's allocatable capacity, for the over-commit warning.
    let allocatable: Resources
    /// The manifest digest each `spec.image` of the apply resolved to, by reference.
    let images: [String: String]
    /// The uid of the next ministry created: `uidBase` plus the ministries created so far.
    let uidBase: Int
    private(set) var ministrySerial: Int64
    /// Secrets' new values, sealed by the route, by `ministry/name`.
    let secretChanges: [String: SecretChange]
    /// Audit messages of objects that say more than their action (a secret's changed keys), by identity.
    var auditMessages: [String: String] = [:]

    init(
        state: StoredState, now: Date, caller: Caller, allocatable: Resources, images: [String: String] = [:],
        uidBase: Int = Registry.defaultUIDBase, secretChanges: [String: SecretChange] = [:]
    ) {
        self.secretChanges = secretChanges
        self.next = state
        self.images = images
        self.uidBase = uidBase
        self.ministrySerial = state.ministrySerial
        self.allocatable = allocatable
        self.version = state.resourceVersion + 1
        self.serial = state.instanceSerial
        self.now = now
        self.caller = caller
    }

    /// True when the object is already stored.
    func exists(_ object: ManifestObject) -> Bool {
        switch object {
        case .ministry(let m): next.ministries[m.metadata.name] != nil
        case .application(let a): next.applications[a.key] != nil
        case .capacityRequest(let r): next.capacityRequests[r.metadata.name] != nil
        case .secret(let secret): next.secrets[secret.key] != nil
        }
    }

    /// A `metadata.resourceVersion` in the manifest must be the stored one.
    func checkVersion(_ item: LocatedObject) throws(APIError) {
        guard let expected = item.object.metadata.resourceVersion else { return }
        let current: Int64? =
            switch item.object {
            case .ministry(let m): next.ministries[m.metadata.name]?.metadata.resourceVersion
            case .application(let a): next.applications[a.key]?.metadata.resourceVersion
            case .capacityRequest(let r): next.capacityRequests[r.metadata.name]?.metadata.resourceVersion
            case .secret(let secret): next.secrets[secret.key]?.view.metadata.resourceVersion
            }
        guard let current else {
            throw APIError(
                .conflict, "\(item.object.identity) does not exist, but the manifest expects version \(expected)")
        }
        if current != expected {
            throw APIError(
                .conflict,
                "\(item.object.identity) was changed since version \(expected) (it is at \(current)); "
                    + "read it again and reapply")
        }
    }

    /// Creates or updates one object; returns its answer line.
    mutating func put(_ object: ManifestObject) throws(APIError) -> ApplyItem {
        switch object {
        case .ministry(let m): return putMinistry(m)
        case .capacityRequest(let r): return try putCapacityRequest(r)
        case .application(let a): return try putApplication(a)
        case .secret(let secret): return try putSecret(secret)
        }
    }

    /// The bookkeeping of an object written by this apply: `nil` when unchanged.
    func stamp(_ new: ObjectMeta, over old: ObjectMeta?, specChanged: Bool) -> ObjectMeta? {
        var meta = new
        guard let old else {
            meta.resourceVersion = version
            meta.generation = 1
            meta.createdAt = now
            meta.updatedAt = now
            return meta
        }
        if !specChanged && old.labels == new.labels { return nil }
        meta.resourceVersion = version
        meta.generation = (old.generation ?? 1) + (specChanged ? 1 : 0)
        meta.createdAt = old.createdAt
        meta.updatedAt = now
        return meta
    }

    func item(_ kind: Kind, _ meta: ObjectMeta, created: Bool, changed: ObjectMeta?) -> ApplyItem {
        ApplyItem(
            kind: kind.rawValue, ministry: meta.ministry, name: meta.name,
            action: created ? "created" : changed == nil ? "unchanged" : "configured",
            resourceVersion: changed?.resourceVersion ?? meta.resourceVersion ?? 0)
    }

    private mutating func putMinistry(_ ministry: Ministry) -> ApplyItem {
        let old = next.ministries[ministry.metadata.name]
        guard let meta = stamp(ministry.metadata, over: old?.metadata, specChanged: old?.spec != ministry.spec) else {
            return item(.ministry, old!.metadata, created: false, changed: nil)
        }
        var stored = Ministry(metadata: meta, spec: ministry.spec, status: old?.status)
        if stored.status?.runAs == nil {
            // A new ministry's instances run as a uid of its own, never given to another.
            let uid = uidBase + Int(ministrySerial)
            ministrySerial += 1
            var status = stored.status ?? MinistryStatus(effectiveQuota: ministry.spec.quota)
            status.runAs = RunAs(uid: uid, gid: uid)
            stored.status = status
        }
        next.ministries[meta.name] = stored
        mutations.append(.putMinistry(stored))
        if let old,
            old.spec.quota != ministry.spec.quota || old.spec.borrowingLimit != ministry.spec.borrowingLimit
                || old.spec.lendingLimit != ministry.spec.lendingLimit || old.spec.cohort != ministry.spec.cohort
        {
            events.append(
                Event(
                    time: now, kind: "Ministry", ministry: meta.name, name: meta.name, reason: "QuotaChanged",
                    message: "quota \(old.spec.quota.summary) → \(ministry.spec.quota.summary) by \(caller.subject)"))
        }
        return item(.ministry, meta, created: old == nil, changed: meta)
    }

    private mutating func putCapacityRequest(_ request: CapacityRequest) throws(APIError) -> ApplyItem {
        let old = next.capacityRequests[request.metadata.name]
        if let old, old.metadata.ministry != request.metadata.ministry {
            throw APIError(
                .conflict,
                "capacity request \(request.metadata.name) already exists for ministry \(old.metadata.ministry ?? "-")")
        }
        let specChanged = old?.spec != request.spec
        if let old, specChanged, let phase = old.status?.phase, phase != .pending {
            throw APIError(
                .conflict,
                "capacity request \(request.metadata.name) is \(phase.rawValue) and can no longer change; "
                    + "file a new request")
        }
        guard let meta = stamp(request.metadata, over: old?.metadata, specChanged: specChanged) else {
            return item(.capacityRequest, old!.metadata, created: false, changed: nil)
        }
        var status = old?.status ?? CapacityRequestStatus(phase: .pending, requestedBy: caller.subject)
        // Who changed a pending request is recorded: none of its authors may decide it.
        if old != nil, specChanged, !status.authors.contains(caller.subject) {
            status.changedBy = (status.changedBy ?? []) + [caller.subject]
        }
        let stored = CapacityRequest(metadata: meta, spec: request.spec, status: status)
        next.capacityRequests[meta.name] = stored
        mutations.append(.putCapacityRequest(stored))
        return item(.capacityRequest, meta, created: old == nil, changed: meta)
    }

    private mutating func putApplication(_ app: Application) throws(APIError) -> ApplyItem {
        let old = next.applications[app.key]
        if old?.status?.deleting != nil {
            throw APIError(
                .conflict,
                "\(app.key) is being deleted: its last instances are leaving the gateways; apply it again once it is gone"
            )
        }
        try checkExposure(of: app)
        // The image's digest is part of the template: a tag that now names other bytes rolls out.
        var digest: String?
        if let image = app.spec.image {
            guard let resolved = images[image] ?? (old?.spec.image == image ? old?.status?.imageDigest : nil) else {
                throw APIError(
                    .invalid, "\(app.key): the image \(image) was not resolved",
                    details: [.init(path: "spec.image", message: "not resolved to a digest")])
            }
            digest = resolved
        }
        let digestChanged = old != nil && old?.status?.imageDigest != digest
        guard
            let meta = stamp(
                app.metadata, over: old?.metadata, specChanged: old?.spec != app.spec || digestChanged)
        else {
            var unchanged = item(.application, old!.metadata, created: false, changed: nil)
            unchanged.imageDigest = digest
            return unchanged
        }
        var stored = Application(metadata: meta, spec: app.spec, status: old?.status)
        var template = app.spec
        template.replicas = old?.spec.replicas ?? app.spec.replicas
        // What the gateways publish and who reads the endpoints are not the instances' template.
        template.expose = old?.spec.expose ?? app.spec.expose
        template.consumers = old?.spec.consumers ?? app.spec.consumers
        let templateChanged = old.map { $0.spec != template || digestChanged } ?? false
        if old == nil || stored.status == nil {
            stored.status = ApplicationStatus(
                desired: app.spec.replicas, ready: 0, updated: 0, available: 0,
                currentGeneration: meta.generation ?? 1, targetGeneration: meta.generation ?? 1, rollout: "Complete")
        }
        stored.status?.imageDigest = digest
        if old == nil || templateChanged {
            let revision = Revision(
                generation: meta.generation ?? 1, spec: app.spec, imageDigest: digest, appliedBy: caller.subject,
                appliedAt: now)
            stored.status?.revisions = Array(((old?.status?.revisions ?? []) + [revision]).suffix(Revision.kept))
        }
        if templateChanged {
            startRollout(of: &stored, message: "generation \(meta.generation ?? 1) rolls out by \(caller.subject)")
        }
        next.applications[app.key] = stored
        mutations.append(.putApplication(stored))
        let ministry = meta.ministry ?? ""
        if old == nil || !app.spec.totalRequest.fits(in: old!.spec.totalRequest)
            || (app.spec.priority == .critical && old!.spec.priority != .critical)
        {
            grown.append((ministry, meta.name))
        }
        if old == nil || (!templateChanged && stored.status?.rollout != "Progressing") {
            reconcileInstances(of: stored)
        }
        var answer = item(.application, meta, created: old == nil, changed: meta)
        answer.imageDigest = digest
        return answer
    }

    /// A host and path pair is published by one application in the cluster.
    func checkExposure(of app: Application) throws(APIError) {
        for (index, expose) in (app.spec.expose ?? []).enumerated() {
            let owner = next.applications.values.first { other in
                other.key != app.key && other.status?.deleting == nil
                    && (other.spec.expose ?? []).contains { $0.host == expose.host && $0.path == expose.path }
            }
            guard let owner else { continue }
            // Another ministry's application is not named to a caller who may not read it.
            let who =
                Access.canRead(caller, ministry: owner.metadata.ministry ?? "")
                ? "Application/\(owner.key)" : "an application of another ministry"
            throw APIError(
                .conflict, "\(app.key) cannot publish \(expose.host)\(expose.path): \(who) does",
                details: [.init(path: "spec.expose[\(index)]", message: "host and path already published")])
        }
    }

    /// Marks `app` rolling out to its generation: the rollout loop replaces the instances under
    /// the update bounds.
    mutating func startRollout(of app: inout Application, message: String) {
        app.status?.targetGeneration = app.metadata.generation ?? 1
        app.status?.rollout = "Progressing"
        app.status?.message = nil
        app.status?.progressAt = now
        app.status?.available = 0
        events.append(
            Event(
                time: now, kind: "Application", ministry: app.metadata.ministry, name: app.metadata.name,
                reason: "RolloutStarted", message: message))
    }

    /// Records the desired instances when the template has not changed: `replicas` of them, new
    /// ones added or the newest removed. (A new template is rolled out by the rollout loop.)
    private mutating func reconcileInstances(of app: Application) {
        let ministry = app.metadata.ministry ?? ""
        var current = Registry.oldestFirst(
            next.instances(ofApplication: app.key).filter { !$0.phase.isTerminal && $0.phase != .terminating })
        while current.count > app.spec.replicas, let newest = current.popLast() {
            if let leaving = Registry.retiring(newest, in: next, now: now) {
                next.put(leaving)
                mutations.append(.putInstance(leaving))
            } else {
                remove(newest.id)
            }
        }
        let generation = app.status?.targetGeneration ?? app.metadata.generation ?? 1
        while current.count < app.spec.replicas {
            serial += 1
            var instance = Instance(
                id: "\(ministry)-\(app.metadata.name)-\(serial)", ministry: ministry, application: app.metadata.name,
                generation: generation,
                phase: .pending, reason: "waiting to be scheduled", guaranteed: false, priority: app.spec.priority,
                resources: app.spec.resources, createdAt: now)
            instance.imageDigest = app.status?.imageDigest
            next.put(instance)
            mutations.append(.putInstance(instance))
            current.append(instance)
        }
    }

    private mutating func remove(_ id: String) {
        next.removeInstance(id)
        mutations.append(.deleteInstance(id))
    }

    /// Admission: every application whose total grew must fit its ministry's effective quota plus
    /// what it may borrow, with the ministry's other applications as this apply leaves them.
    func admit() throws(APIError) {
        let ledger = Registry.ledger(of: next, now: now)
        // Each ministry's admitted applications gathered once for the whole apply (a pass over
        // every application), not once per application it grows.
        var admitted: [String: [String: (total: Resources, critical: Bool)]] = [:]
        for (ministry, name) in grown {
            guard let app = next.applications["\(ministry)/\(name)"] else { continue }
            if next.ministries[ministry]?.status?.overQuota == true {
                throw APIError(
                    .quotaExceeded,
                    "Application/\(ministry)/\(name) is refused: critical instances keep ministry \(ministry) above "
                        + "its effective quota, and nothing new is admitted until it is back under",
                    details: [APIError.Detail(path: "overQuota", message: "true")])
            }
            if admitted[ministry] == nil { admitted[ministry] = Registry.admitted(of: ministry, in: next) }
            let verdict = Admission.check(
                ministry: ministry, application: name, request: app.spec.totalRequest,
                critical: app.spec.priority == .critical, admitted: admitted[ministry]!, ledger: ledger)
            guard !verdict.admitted else { continue }
            var details = [
                APIError.Detail(path: "needed", message: verdict.needed.summary),
                APIError.Detail(path: "quota", message: verdict.quota.summary),
                APIError.Detail(path: "borrowingLimit", message: verdict.borrowingLimit.summary),
            ]
            for (other, total) in verdict.inUse.sorted(by: { $0.key < $1.key }) {
                details.append(APIError.Detail(path: "inUse.\(other)", message: total.summary))
            }
            throw APIError(
                .quotaExceeded, "Application/\(ministry)/\(name) is refused: \(verdict.message)", details: details)
        }
    }

    /// Warnings of an apply that went through: a widened over-commit, a quota below what is admitted.
    func warnings(before: StoredState) -> [String] {
        var warnings: [String] = []
        let was = Overcommit.shortfall(of: before, now: now, allocatable: allocatable)
        let will = Overcommit.shortfall(of: next, now: now, allocatable: allocatable)
        if !will.fits(in: was) {
            warnings.append(
                "the ministries' quotas exceed the cluster's allocatable capacity by \(will.summary) "
                    + "(before this apply: \(was.summary)); guaranteed instances may stay Pending")
        }
        let ledger = Registry.ledger(of: next, now: now)
        for ministry in next.ministries.keys.sorted() where next.ministries[ministry] != before.ministries[ministry] {
            let admitted = Registry.admitted(of: ministry, in: next).values.reduce(Resources.zero) { $0 + $1.total }
            let limit = ledger.terms(of: ministry).quota + ledger.borrowingCeiling(ministry)
            if !admitted.fits(in: limit) {
                warnings.append(
                    "ministry \(ministry) has \(admitted.summary) admitted, above its quota and borrowing limit "
                        + "(\(limit.summary)); it can admit nothing more until it fits, and placed instances "
                        + "beyond its quota become borrowed where its cohort can lend, else are preempted")
            }
        }
        return warnings
    }
}
