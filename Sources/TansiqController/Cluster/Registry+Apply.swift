import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel
import TansiqScheduler
import TansiqStore

extension Registry {
    /// Plans an apply: every document is authorised, checked against the cluster and the
    /// quotas, and the whole set becomes one changeset, or none of it does.
    ///
    /// Throws `APIError` with `forbidden` (a document outside the caller's role), `invalid`
    /// (references, duplicates, priorities), `conflict` (a stale `metadata.resourceVersion`, a
    /// decided capacity request changed) or `quota-exceeded` (with the numbers).
    /// `images` gives the digest each `spec.image` resolved to, and `secrets` the sealed new
    /// values of secrets by `ministry/name` (the route resolves and seals them before planning,
    /// as planning does no I/O and no cryptography).
    public func planApply(
        _ objects: [LocatedObject], caller: Caller, now: Date, requestID: String, createOnly: Bool = false,
        images: [String: String] = [:], secrets: [String: SecretChange] = [:]
    ) throws(APIError) -> Outcome<ApplyResult> {
        for item in objects
        where !Access.canWrite(caller, kind: item.object.kind, ministry: item.object.metadata.ministry) {
            throw APIError(.forbidden, Access.refusal(caller, "apply \(item.object.identity)"))
        }
        let diagnostics = ManifestSetValidator.validate(
            objects,
            cluster: ClusterFacts(
                ministries: Dictionary(uniqueKeysWithValues: state.ministries.map { ($0.key, $0.value) }),
                secrets: secretNames))
        if !diagnostics.isEmpty {
            throw APIError(
                .invalid, "the manifests do not fit the cluster", details: diagnostics.map(APIError.Detail.init))
        }
        var plan = ApplyPlan(
            state: state, now: RFC3339.truncated(now), caller: caller, allocatable: allocatable, images: images,
            uidBase: uidBase, secretChanges: secrets)
        for item in objects {
            try plan.checkVersion(item)
            if createOnly, plan.exists(item.object) {
                throw APIError(.conflict, "\(item.object.identity) already exists")
            }
        }
        // Ministries first, then capacity requests, then applications: an application is admitted
        // against the quotas the same apply sets.
        let order = objects.indices.sorted { rank(objects[$0].object) < rank(objects[$1].object) }
        var items = [ApplyItem?](repeating: nil, count: objects.count)
        for index in order {
            items[index] = try plan.put(objects[index].object)
        }
        try plan.admit()
        let warnings = plan.warnings(before: state)
        let audit = items.compactMap { $0 }.map { item in
            let object = [item.kind, item.ministry, item.name].compactMap { $0 }.joined(separator: "/")
            return AuditRecord(
                time: now, requestID: requestID, subject: caller.subject, role: caller.role.rawValue, action: "apply",
                object: object, result: item.action, message: plan.auditMessages[object])
        }
        let changed = !plan.mutations.isEmpty
        var changeset = Changeset(
            basedOn: state.resourceVersion, resourceVersion: changed ? plan.version : nil,
            instanceSerial: plan.serial == state.instanceSerial ? nil : plan.serial, mutations: plan.mutations,
            audit: audit, events: plan.events)
        if plan.ministrySerial != state.ministrySerial { changeset.ministrySerial = plan.ministrySerial }
        return Outcome(changeset: changeset, value: ApplyResult(items: items.compactMap { $0 }, warnings: warnings))
    }

    private func rank(_ object: ManifestObject) -> Int {
        switch object {
        case .ministry: 0
        case .capacityRequest: 1
        case .secret: 2
        case .application: 3
        }
    }
}

extension APIError.Detail {
    /// A manifest diagnostic as a located detail; the message's leading field path becomes `path`.
    init(_ diagnostic: Diagnostic) {
        var path: String?
        var message = diagnostic.message
        if let colon = message.range(of: ": "), !message[..<colon.lowerBound].contains(" "),
            message.first?.isLowercase == true
        {
            path = String(message[..<colon.lowerBound])
            message = String(message[colon.upperBound...])
        }
        self.init(path: path, line: diagnostic.line, column: diagnostic.column, message: message)
    }
}

extension Registry {
    /// The names of every ministry's secrets, by ministry (what applications may refer to).
    var secretNames: [String: Set<String>] {
        var names: [String: Set<String>] = [:]
        for ministry in state.ministries.keys { names[ministry] = [] }
        for record in state.secrets.values {
            names[record.view.metadata.ministry ?? "", default: []].insert(record.view.metadata.name)
        }
        return names
    }
}
