import Foundation
import TansiqAPI
import TansiqModel
import TansiqStore

extension Registry {
    /// True when an instance serves requests: placed, Healthy — or Running when its application
    /// has no health check — and not Terminating.
    static func isReady(_ instance: Instance, of app: @autoclosure () -> Application?) -> Bool {
        // The phase first: most instances are not ready, and their application need not be
        // looked up to say so.
        guard instance.node != nil else { return false }
        switch instance.phase {
        case .healthy: return app() != nil
        case .running: return app().map { $0.spec.health == nil } ?? false
        default: return false
        }
    }

    /// The ready instances of `app`, in the order they were made.
    func endpoints(of app: Application) -> [Endpoint] {
        guard app.status?.deleting == nil else { return [] }
        return Self.oldestFirst(state.instances(ofApplication: app.key).filter { Self.isReady($0, of: app) })
            .map { instance in
                Endpoint(
                    instance: instance.id, node: instance.node ?? "",
                    address: instance.node.flatMap { state.nodes[$0]?.address }, ports: instance.ports)
            }
    }

    /// The endpoints the caller may read, of one ministry or application when given.
    public func endpointsList(caller: Caller, ministry: String?, application: String?) -> EndpointsList {
        let apps = state.applications.values.filter { app in
            (ministry == nil || app.metadata.ministry == ministry)
                && (application == nil || app.metadata.name == application)
                && Access.canReadEndpoints(caller, of: app)
        }.sorted { $0.key < $1.key }
        return EndpointsList(
            resourceVersion: state.endpointsVersion,
            items: apps.map {
                ApplicationEndpoints(
                    ministry: $0.metadata.ministry ?? "", application: $0.metadata.name,
                    expose: $0.status?.deleting == nil ? $0.spec.expose ?? [] : [],
                    endpoints: endpoints(of: $0))
            })
    }

    /// True when `mutations` (planned against `before`) change the endpoints of some application:
    /// an instance becomes or stops being ready, a ready one moves or changes its ports, an
    /// application's exposure, health check or consumers change, or the address of a node that
    /// holds ready instances changes.
    static func endpointsChanged(_ mutations: [Mutation], before: StoredState) -> Bool {
        func ready(_ instance: Instance?) -> Bool {
            guard let instance else { return false }
            return isReady(instance, of: before.applications["\(instance.ministry)/\(instance.application)"])
        }
        for mutation in mutations {
            switch mutation {
            case .putInstance(let instance):
                let old = before.instances[instance.id]
                let (was, now) = (ready(old), ready(instance))
                if was != now || (now && (old?.node != instance.node || old?.ports != instance.ports)) { return true }
            case .deleteInstance(let id):
                if ready(before.instances[id]) { return true }
            case .putApplication(let app):
                guard let old = before.applications[app.key] else {
                    if !(app.spec.expose ?? []).isEmpty { return true }
                    continue
                }
                if old.spec.expose != app.spec.expose || old.spec.consumers != app.spec.consumers
                    || old.spec.health != app.spec.health || old.status?.deleting != app.status?.deleting
                {
                    return true
                }
            case .deleteApplication(let ministry, let name):
                let key = "\(ministry)/\(name)"
                if !(before.applications[key]?.spec.expose ?? []).isEmpty
                    || before.instances(ofApplication: key).contains(where: { ready($0) })
                {
                    return true
                }
            case .putNode(let node):
                guard before.nodes[node.name]?.address != node.address else { continue }
                if before.instances(onNode: node.name).contains(where: { ready($0) }) { return true }
            default: continue
            }
        }
        return false
    }

    /// `changeset` as it is committed: one that moves some application's endpoints moves their
    /// version by one.
    func stampingEndpoints(_ changeset: Changeset) -> Changeset {
        guard changeset.endpointsVersion == nil, Self.endpointsChanged(changeset.mutations, before: state) else {
            return changeset
        }
        var stamped = changeset
        stamped.endpointsVersion = state.endpointsVersion + 1
        return stamped
    }

    /// How an instance is taken down (a rollout, a drain, a scale-down, a delete): a ready
    /// instance of an exposed application first leaves the endpoints as Terminating — returned,
    /// to be written — and keeps running until the gateways have applied that
    /// (`planFinishTakeDowns`); nil for any other, which goes at once. The change that writes it
    /// moves the endpoints version by one, to `state.endpointsVersion + 1`.
    static func retiring(_ instance: Instance, in state: StoredState, now: Date) -> Instance? {
        let app = state.applications["\(instance.ministry)/\(instance.application)"]
        guard let app, !(app.spec.expose ?? []).isEmpty, isReady(instance, of: app) else { return nil }
        var leaving = instance
        leaving.phase = .terminating
        leaving.reason = "leaving the gateways before it stops"
        leaving.terminating = Instance.Terminating(
            since: RFC3339.truncated(now), endpointsVersion: state.endpointsVersion + 1,
            drainTimeoutMilliseconds: app.spec.update.effectiveDrainTimeout.milliseconds)
        return leaving
    }

    /// The mutation that takes `instance` down (see `retiring`): Terminating first, or gone.
    func retire(_ instance: Instance, now: Date) -> Mutation {
        Self.retiring(instance, in: state, now: now).map { .putInstance($0) } ?? .deleteInstance(instance.id)
    }

    /// How long a gateway counts after its last report: one silent longer is not waited for.
    public static let gatewayWindow: TimeInterval = 120

    /// The Terminating instances whose gateways have all applied the endpoints without them — every
    /// gateway heard within `gatewayWindow` reports that version or a later one, and the controller
    /// has run long enough to have heard every live gateway (`settled`) — or whose drain timeout
    /// has passed, removed (their agents stop them); and applications being deleted whose
    /// instances are all gone, removed too. Returns the ids of the instances removed.
    public func planFinishTakeDowns(now: Date, gateways: [GatewayView], settled: Bool) -> Outcome<[String]> {
        let recent = gateways.filter { now.timeIntervalSince($0.reportedAt) <= Self.gatewayWindow }
        var mutations: [Mutation] = []
        var removed: [String] = []
        var next = state
        for instance in state.terminatingInstanceIDs.compactMap({ state.instances[$0] }) {
            guard let terminating = instance.terminating else {
                mutations.append(.deleteInstance(instance.id))
                removed.append(instance.id)
                next.removeInstance(instance.id)
                continue
            }
            let applied = settled && recent.allSatisfy { $0.endpointsVersion >= terminating.endpointsVersion }
            let timedOut =
                now.timeIntervalSince(terminating.since) * 1000 >= Double(terminating.drainTimeoutMilliseconds)
            guard applied || timedOut else { continue }
            mutations.append(.deleteInstance(instance.id))
            removed.append(instance.id)
            next.removeInstance(instance.id)
        }
        for app in state.applications.values where app.status?.deleting != nil {
            if next.instances(ofApplication: app.key).isEmpty {
                mutations.append(.deleteApplication(ministry: app.metadata.ministry ?? "", name: app.metadata.name))
            }
        }
        guard !mutations.isEmpty else {
            return Outcome(changeset: Changeset(basedOn: state.resourceVersion), value: [])
        }
        return Outcome(
            changeset: Changeset(
                basedOn: state.resourceVersion, resourceVersion: state.resourceVersion + 1, mutations: mutations),
            value: removed)
    }
}
