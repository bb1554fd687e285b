import Foundation
import TansiqAPI
import TansiqModel
import TansiqStore

/// A secret's new values as the apply route sealed them: what planning stores (it does no
/// cryptography and no I/O itself).
public struct SecretChange: Sendable, Hashable {
    /// The values, sealed.
    public var sealed: SealedSecret
    /// Their keys, sorted.
    public var keys: [String]
    /// Their bytes in all.
    public var size: Int
    /// What changed, by key name only (for the audit log): `added a; changed b; removed c`.
    public var summary: String

    public init(sealed: SealedSecret, keys: [String], size: Int, summary: String) {
        self.sealed = sealed
        self.keys = keys
        self.size = size
        self.summary = summary
    }
}

extension ApplyPlan {
    /// Creates a secret, or changes its values (`changes` has them) or its labels. Changed values
    /// roll out the ministry's applications that restart on them.
    mutating func putSecret(_ secret: Secret) throws(APIError) -> ApplyItem {
        let old = next.secrets[secret.key]
        let change = secretChanges[secret.key]
        if old == nil && change == nil {
            throw APIError(
                .invalid, "Secret/\(secret.key) does not exist yet: give its values in spec.data",
                details: [.init(path: "spec.data", message: "required to create a secret")])
        }
        guard let meta = stamp(secret.metadata, over: old?.view.metadata, specChanged: change != nil) else {
            return item(.secret, old!.view.metadata, created: false, changed: nil)
        }
        var view =
            old?.view
            ?? SecretView(metadata: meta, keys: [], size: 0, version: 0, updatedBy: caller.subject, updatedAt: now)
        view.metadata = meta
        var sealed = old?.sealed
        if let change {
            view.keys = change.keys
            view.size = change.size
            view.version += 1
            view.updatedBy = caller.subject
            view.updatedAt = now
            sealed = change.sealed
            auditMessages["Secret/\(secret.key)"] = "version \(view.version): \(change.summary)"
        }
        let record = SecretRecord(view: view, sealed: sealed!)
        next.secrets[secret.key] = record
        mutations.append(.putSecret(record))
        if old != nil, change != nil, let ministry = meta.ministry {
            for app in next.applications.values
            where app.metadata.ministry == ministry && app.spec.restartingSecrets.contains(meta.name) {
                restart(app, because: "secret \(meta.name) changed (version \(view.version))")
            }
        }
        return item(.secret, meta, created: old == nil, changed: meta)
    }

    /// A new generation of `app` with the same spec: the rollout loop replaces its instances
    /// under the update bounds, as for a new template.
    private mutating func restart(_ app: Application, because reason: String) {
        var meta = app.metadata
        meta.resourceVersion = version
        meta.generation = (meta.generation ?? 1) + 1
        meta.updatedAt = now
        var stored = Application(metadata: meta, spec: app.spec, status: app.status)
        let revision = Revision(
            generation: meta.generation ?? 1, spec: app.spec, imageDigest: app.status?.imageDigest,
            appliedBy: caller.subject, appliedAt: now)
        stored.status?.revisions = Array(((app.status?.revisions ?? []) + [revision]).suffix(Revision.kept))
        startRollout(of: &stored, message: "generation \(meta.generation ?? 1) rolls out: \(reason)")
        next.applications[app.key] = stored
        mutations.append(.putApplication(stored))
    }
}
