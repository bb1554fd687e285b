import ArgumentParser
import Foundation
import TansiqController
import TansiqManifest
import TansiqModel
import TansiqScheduler
import TansiqStore

/// `registry`: the controller's pure work per apply and per placement round, in this process, with
/// no I/O — what the scale benchmark's figures are made of once TLS, HTTP and the store are set
/// apart, and steady enough on a noisy machine to compare two builds.
struct RegistryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "The controller's in-memory work of an apply and of a placement round, as the cluster fills.",
        discussion: """
            Builds a registry (the controller's state and rules, as it holds them) with --nodes Ready nodes of \
            4 cpu, 8Gi and 50 slots, then applies --applications applications of --replicas instances (100m, \
            64Mi), --batch applications an apply, and places each apply's instances in one round, as the \
            controller does: the apply's planning (parse excluded) and its changeset applied to the state; the \
            round as the placement loop runs it (the terms' digest, the pending requests, the plan of the \
            scheduler kept from the last round, timed once), and beside it a scheduler built from a snapshot \
            of the cluster, as when something the kept one holds changed; then the plan applier, both trusted \
            (nothing committed since the plan) and re-checked (a commit came between). Every other step is \
            timed --repeat times on the same state and the fastest kept. Prints the figures at the first \
            apply (empty cluster) and the last (the cluster nearly full), and the sums per instance, the \
            scheduler kept and built each round.
            """)

    @Option(help: "Ready nodes (4 cpu, 8Gi, 50 slots each).") var nodes: Int = 10000
    @Option(help: "Applications applied in all.") var applications: Int = 1000
    @Option(help: "Instances per application.") var replicas: Int = 100
    @Option(help: "Applications per apply.") var batch: Int = 50
    @Option(help: "Times each step is timed on the same state (the fastest kept).") var `repeat`: Int = 3

    func validate() throws {
        guard nodes >= 1, applications >= 1, replicas >= 1, batch >= 1, `repeat` >= 1 else {
            throw ValidationError("--nodes, --applications, --replicas, --batch and --repeat must be at least 1")
        }
        guard nodes * 50 >= applications * replicas, nodes * 4000 >= applications * replicas * 100 else {
            throw ValidationError("the nodes (4 cpu, 50 slots each) cannot hold every instance")
        }
    }

    /// One apply and its round, each step's fastest time in seconds.
    struct Step {
        var apply = 0.0, commitApply = 0.0, input = 0.0, schedule = 0.0, trusted = 0.0, rechecked = 0.0
        var commitRound = 0.0
        /// The round with the scheduler kept from the last one: the terms' digest and the requests
        /// (no snapshot), and the kept scheduler's plan (timed once: planning changes it).
        var terms = 0.0, requests = 0.0, keptSchedule = 0.0
        var placed = 0

        /// The apply: planned, then applied to the state.
        var applying: Double { apply + commitApply }
        /// The round as the controller runs it: the scheduler kept, the applier trusted (nothing
        /// committed in between).
        var round: Double { terms + requests + keptSchedule + trusted + commitRound }
        /// The round with a scheduler built from a snapshot, as when something it holds changed.
        var freshRound: Double { input + schedule + trusted + commitRound }
    }

    func run() throws {
        let now = Date()
        let admin = Caller(subject: "bench", role: .operator)
        var registry = Registry(state: StoredState())
        registry.apply(
            try registry.planApply(Self.parse(BenchWorkload.ministry), caller: admin, now: now, requestID: "m")
                .changeset)
        let fleet = (0..<nodes).map { index in
            var node = Node(
                name: "bench-\(index)", phase: .ready,
                capacity: Resources(cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 0, instances: 50))
            node.labels = ["zone": "z\(index % 4)"]
            return node
        }
        registry.apply(Changeset(basedOn: registry.state.resourceVersion, mutations: fleet.map { .putNode($0) }))
        let ready: @Sendable (Node) -> Bool = { _ in true }

        let kept = KeptScheduler()
        var steps: [Step] = []
        for start in stride(from: 0, to: applications, by: batch) {
            let objects = try Self.parse(
                (start..<min(applications, start + batch))
                    .map { BenchWorkload.application("app-\($0)", replicas: replicas) }
                    .joined(separator: "\n---\n"))
            var step = Step()
            let base = registry
            let (applyTime, outcome) = try fastest {
                try base.planApply(objects, caller: admin, now: now, requestID: "a")
            }
            step.apply = applyTime
            step.commitApply = fastest { Self.applying(outcome.changeset, to: base) }.seconds
            registry.apply(outcome.changeset)

            let applied = registry
            // A scheduler built from a snapshot, as every round did before the scheduler was kept.
            let (inputTime, input) = fastest { applied.schedulingInput(now: now, ready: ready) }
            step.input = inputTime
            step.schedule = fastest { Scheduler.plan(input.0, input.1) }.seconds
            // The round as the placement loop runs it.
            let (termsTime, terms) = fastest { applied.termsFingerprint(now: now, ready: ready) }
            step.terms = termsTime
            let (requestsTime, requests) = fastest { applied.schedulingRequests() }
            step.requests = requestsTime
            let key = KeptScheduler.Key(schedulingRevision: applied.schedulingRevision, terms: terms)
            let scheduler = kept.take(key, registry: applied, now: now, ready: ready)
            let planning = ContinuousClock.now
            let plan = scheduler.schedule(requests)
            step.keptSchedule = (ContinuousClock.now - planning).seconds
            let (trustedTime, round) = fastest {
                applied.planPlacement(plan, now: now, plannedOn: applied.schedulingRevision, ready: ready)
            }
            step.trusted = trustedTime
            step.rechecked = fastest { applied.planPlacement(plan, now: now, plannedOn: nil, ready: ready) }.seconds
            step.commitRound = fastest { Self.applying(round.changeset, to: applied) }.seconds
            step.placed = round.value.placed
            guard let next = KeptScheduler.key(after: round, on: applied, plannedOn: key) else {
                throw ValidationError("the plan applier did not take the kept scheduler's plan as made")
            }
            kept.keep(scheduler, as: next)
            registry.apply(round.changeset)
            steps.append(step)
        }
        let placed = steps.reduce(0) { $0 + $1.placed }
        guard placed == applications * replicas else {
            throw ValidationError("only \(placed) of \(applications * replicas) instances were placed")
        }
        guard kept.builds == 1 else {
            throw ValidationError("the scheduler was built \(kept.builds) times, not kept between rounds")
        }
        func ms(_ seconds: Double) -> String { String(format: "%.1f", seconds * 1000) }
        func line(_ label: String, _ step: Step) {
            print(
                "  \(label): apply \(ms(step.apply)) ms + to the state \(ms(step.commitApply)) ms; round: terms "
                    + "\(ms(step.terms)) ms, requests \(ms(step.requests)) ms, kept scheduler "
                    + "\(ms(step.keptSchedule)) ms, applier \(ms(step.trusted)) ms trusted (\(ms(step.rechecked)) ms "
                    + "re-checked), to the state \(ms(step.commitRound)) ms; a scheduler built instead: input "
                    + "\(ms(step.input)) ms, scheduler \(ms(step.schedule)) ms")
        }
        print(
            "\(nodes) nodes, \(applications) applications × \(replicas) instances, \(batch) applications "
                + "(\(batch * replicas) instances) an apply, each placed in one round:")
        line("first apply (empty cluster)", steps[0])
        line("last apply (\(placed - steps[steps.count - 1].placed) placed)", steps[steps.count - 1])
        let applySum = steps.reduce(0.0) { $0 + $1.applying }
        func total(_ label: String, rounds: Double) -> Double {
            let sum = applySum + rounds
            print(
                "  \(label): \(String(format: "%.2f", sum)) s for \(placed) instances, "
                    + "\(String(format: "%.1f", sum / Double(placed) * 1e6)) µs each (applies "
                    + "\(String(format: "%.1f", applySum / Double(placed) * 1e6)) µs, rounds "
                    + "\(String(format: "%.1f", rounds / Double(placed) * 1e6)) µs): at most "
                    + "\(Int(Double(placed) / sum)) placements/s on one core, before TLS, HTTP and the store")
            return sum / Double(placed) * 1e6
        }
        let perInstance = total("in all, the scheduler kept", rounds: steps.reduce(0.0) { $0 + $1.round })
        let perInstanceFresh = total(
            "in all, a scheduler built each round", rounds: steps.reduce(0.0) { $0 + $1.freshRound })
        Report.json(
            "registry",
            [
                "nodes": Double(nodes), "instances": Double(placed),
                "firstApplyMs": steps[0].apply * 1000, "lastApplyMs": steps[steps.count - 1].apply * 1000,
                "firstRoundMs": steps[0].round * 1000, "lastRoundMs": steps[steps.count - 1].round * 1000,
                "microsecondsPerInstance": perInstance, "microsecondsPerInstanceFresh": perInstanceFresh,
            ])
    }

    /// `body` run `repeat` times; the fastest time in seconds and the last result.
    func fastest<T>(_ body: () throws -> T) rethrows -> (seconds: Double, value: T) {
        var best = Double.infinity
        var value: T?
        for _ in 0..<`repeat` {
            let start = ContinuousClock.now
            value = try body()
            best = min(best, (ContinuousClock.now - start).seconds)
        }
        return (best, value!)
    }

    /// `registry` with `changeset` applied (as the controller does once it is committed).
    static func applying(_ changeset: Changeset, to registry: Registry) -> Registry {
        var next = registry
        next.apply(changeset)
        return next
    }

    static func parse(_ yaml: String) throws -> [LocatedObject] {
        let (objects, diagnostics) = ManifestParser.parse(yaml, file: "bench")
        guard diagnostics.isEmpty else { throw ValidationError("the bench's manifests: \(diagnostics)") }
        return objects
    }
}
