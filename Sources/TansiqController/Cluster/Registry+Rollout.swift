import Foundation
import TansiqModel
import TansiqScheduler
import TansiqStore

/// What one round of rollouts did.
public struct RolloutProgress: Sendable, Equatable {
    /// New instances created (Pending), by id.
    public var started: [String] = []
    /// Old instances taken down.
    public var removed: [String] = []
    /// Applications whose rollout completed.
    public var completed: [String] = []
    /// Applications whose rollout failed at its deadline.
    public var failed: [String] = []
}

extension Registry {
    /// One round of every progressing rollout. An application's instances of older generations
    /// are replaced by instances of the target generation (new ids) within its update bounds: a
    /// new instance is started while the application has fewer than `replicas + maxSurge`
    /// active instances — a surge beyond `replicas` only where the ministry's quota, with what it
    /// may borrow, has room, else the rollout proceeds by `maxUnavailable` alone and says so —
    /// and an old instance is taken down only while `replicas - maxUnavailable` others stay
    /// ready. Without progress for `progressDeadline` the rollout is marked Failed and stops:
    /// nothing more is taken down; applying the previous spec rolls back the same way.
    public func planRolloutRound(now: Date) -> Outcome<RolloutProgress> {
        var progress = RolloutProgress()
        guard state.applications.values.contains(where: { $0.status?.rollout == "Progressing" }) else {
            return Outcome(changeset: Changeset(basedOn: state.resourceVersion), value: progress)
        }
        var mutations: [Mutation] = []
        var events: [Event] = []
        var serial = state.instanceSerial
        let stamp = RFC3339.truncated(now)
        var ledger = Self.ledger(of: state, now: now)
        for instance in state.instances.values where !instance.phase.isTerminal {
            ledger.add(instance.ministry, instance.resources.vector, guaranteed: true)
        }
        for app in state.applications.values.sorted(by: { $0.key < $1.key }) {
            guard var status = app.status, status.rollout == "Progressing", status.deleting == nil else { continue }
            let ministry = app.metadata.ministry ?? ""
            let target = status.targetGeneration
            let replicas = app.spec.replicas
            // Terminating instances are on their way out: they hold their resources (the ledger
            // counts them) but no longer count towards the application's instances.
            var active = state.instances(ofApplication: app.key).filter {
                !$0.phase.isTerminal && $0.phase != .terminating
            }
            let newReady = active.filter { $0.generation == target && isReady($0) }.count
            // The stored status keeps the new generation's ready count of the last round: more now
            // is progress (reads recompute `available` from the instances).
            var moved = newReady > status.available
            status.available = newReady
            let deadline = Double(app.spec.update.progressDeadline.milliseconds) / 1000
            if !moved, let since = status.progressAt, now.timeIntervalSince(since) > deadline {
                status.rollout = "Failed"
                status.message =
                    "no progress for \(app.spec.update.progressDeadline): \(newReady) of \(replicas) instances of "
                    + "generation \(target) ready; the older instances keep serving"
                progress.failed.append(app.key)
                events.append(
                    Event(
                        time: stamp, kind: "Application", ministry: ministry, name: app.metadata.name,
                        reason: "RolloutFailed", message: status.message ?? ""))
                mutations.append(.putApplication(Application(metadata: app.metadata, spec: app.spec, status: status)))
                continue
            }
            let floor = replicas - app.spec.update.maxUnavailable
            let old = active.filter { $0.generation != target }
            for instance in takeDown(old, active: &active, floor: floor) {
                mutations.append(retire(instance, now: now))
                ledger.remove(ministry, instance.resources.vector, guaranteed: true)
                progress.removed.append(instance.id)
                moved = true
            }
            // Start new ones: up to replicas + maxSurge active, a surge only with quota room.
            let limit = ledger.terms(of: ministry).quota + ledger.borrowingCeiling(ministry)
            var newCount = active.filter { $0.generation == target }.count
            var noRoom = false
            while newCount < replicas, active.count < replicas + app.spec.update.maxSurge {
                let request = app.spec.resources.vector
                if active.count >= replicas, !(ledger.usage(ministry) + request).fits(in: limit) {
                    noRoom = true
                    break
                }
                serial += 1
                var instance = Instance(
                    id: "\(ministry)-\(app.metadata.name)-\(serial)", ministry: ministry,
                    application: app.metadata.name,
                    generation: target, phase: .pending, reason: "rolling out generation \(target)", guaranteed: false,
                    priority: app.spec.priority, resources: app.spec.resources, createdAt: stamp)
                instance.imageDigest = app.status?.imageDigest
                mutations.append(.putInstance(instance))
                active.append(instance)
                ledger.add(ministry, request, guaranteed: true)
                progress.started.append(instance.id)
                newCount += 1
                moved = true
            }
            status.message =
                noRoom
                ? "no quota room for a surge instance; rolling out by maxUnavailable (\(app.spec.update.maxUnavailable)) alone"
                : nil
            if active.allSatisfy({ $0.generation == target }) && newReady == replicas && active.count == replicas {
                status.rollout = "Complete"
                status.message = nil
                progress.completed.append(app.key)
                events.append(
                    Event(
                        time: stamp, kind: "Application", ministry: ministry, name: app.metadata.name,
                        reason: "RolloutComplete", message: "generation \(target) serves with \(replicas) instances"))
            }
            if moved { status.progressAt = stamp }
            if status != app.status {
                mutations.append(.putApplication(Application(metadata: app.metadata, spec: app.spec, status: status)))
            }
        }
        return Outcome(
            changeset: Changeset(
                basedOn: state.resourceVersion, resourceVersion: mutations.isEmpty ? nil : state.resourceVersion + 1,
                instanceSerial: serial == state.instanceSerial ? nil : serial, mutations: mutations, events: events),
            value: progress)
    }
}
