import Foundation
import Metrics
import TansiqModel

/// The version of each node's desired set, and the long polls waiting for it to move. A poll
/// is answered the moment a commit changes its node's set — no polling of the store — or when
/// its wait runs out.
actor AssignmentWatch {
    /// Versions of sets changed since the controller started; others are at `baseline`.
    private var versions: [String: Int64] = [:]
    /// The cluster's version when the controller started: every set is at least that new.
    private let baseline: Int64
    private var waiters: [String: [Int: CheckedContinuation<Int64, Never>]] = [:]
    /// How many polls wait, kept as they come and go: the gauge is set on every one of them, and
    /// counting every node's waiters each time cost the controller O(nodes) per poll.
    private var open = 0
    private var nextWaiter = 0
    /// Once the controller stops, polls are answered at once.
    private var released = false
    /// The polls due to run out at each tick (answered ones are skipped when it comes).
    private var deadlines: [Int64: [(node: String, id: Int)]] = [:]
    /// The first wait's time, from which ticks are counted, and the last tick swept.
    private var origin: ContinuousClock.Instant?
    private var swept: Int64 = 0
    /// The task answering polls whose wait ran out, while any wait.
    private var sweeper: Task<Void, Never>?
    /// How late past its timeout a poll may be answered.
    static let tick = Duration.milliseconds(100)

    /// The gauge of open polls.
    private let gaugeLabel: String

    init(baseline: Int64, gauge: String = "tansiq_agent_long_polls_open") {
        self.baseline = baseline
        self.gaugeLabel = gauge
    }

    /// How many polls wait now (what the gauge says).
    var openPolls: Int { open }

    /// The version of `node`'s set.
    func version(of node: String) -> Int64 { versions[node] ?? baseline }

    /// Records that a commit at `version` changed the sets of `nodes`, and answers their polls.
    func changed(_ nodes: Set<String>, at version: Int64) {
        for node in nodes {
            versions[node] = version
            let answered = waiters.removeValue(forKey: node) ?? [:]
            open -= answered.count
            for continuation in answered.values { continuation.resume(returning: version) }
        }
        gauge()
    }

    /// Waits until `node`'s set is newer than `after`, or `timeout` passes (to within a tick);
    /// returns its version.
    func wait(node: String, after: Int64, timeout: Duration) async -> Int64 {
        let current = version(of: node)
        if current > after || released || timeout <= .zero { return current }
        nextWaiter += 1
        let id = nextWaiter
        // Ticks are counted from the first wait; a deadline is rounded up to a whole tick.
        let start = origin ?? ContinuousClock.now
        origin = start
        let due = Self.due(elapsed: ContinuousClock.now - start, timeout: timeout)
        deadlines[due, default: []].append((node, id))
        if sweeper == nil { sweeper = Task { await self.sweep() } }
        return await withCheckedContinuation { continuation in
            waiters[node, default: [:]][id] = continuation
            open += 1
            gauge()
        }
    }

    /// The tick whose sweep answers a wait of `timeout` that began `elapsed` after the origin:
    /// the first one at or past its deadline (a tick `t` is swept once `t` ticks have passed).
    static func due(elapsed: Duration, timeout: Duration) -> Int64 {
        let deadline = elapsed + timeout
        let ticks = Int64(deadline / tick)
        return tick * Int(ticks) >= deadline ? ticks : ticks + 1
    }

    /// Answers the polls whose wait has run out, a tick at a time, while any poll waits. One
    /// task for all of them: a timer task per poll cost each held poll some 4 KiB.
    private func sweep() async {
        while open > 0 || !deadlines.isEmpty {
            try? await Task.sleep(for: Self.tick)
            guard let origin else { break }
            let now = Int64((ContinuousClock.now - origin) / Self.tick)
            // Ticks before the first that holds a deadline (an idle spell) are skipped at once.
            swept = max(swept, min(now, (deadlines.keys.min() ?? now) - 1))
            while swept < now {
                swept += 1
                for (node, id) in deadlines.removeValue(forKey: swept) ?? [] { expire(node: node, id: id) }
            }
        }
        sweeper = nil
    }

    /// Answers every open poll now and every later one at once (the controller is stopping, and
    /// in-flight requests must end for it to stop).
    func releaseAll() {
        released = true
        for (node, continuations) in waiters {
            for continuation in continuations.values { continuation.resume(returning: version(of: node)) }
        }
        waiters = [:]
        deadlines = [:]
        open = 0
        gauge()
    }

    private func expire(node: String, id: Int) {
        guard let continuation = waiters[node]?.removeValue(forKey: id) else { return }
        if waiters[node]?.isEmpty == true { waiters[node] = nil }
        open -= 1
        gauge()
        continuation.resume(returning: version(of: node))
    }

    private func gauge() {
        Gauge(label: gaugeLabel).record(open)
    }
}

/// When each node's agent was last heard from: in memory only, so a status that changes nothing
/// writes nothing, and a restarted controller starts every node's grace period afresh.
public final class Heartbeats: Sendable {
    private let times = Locked<[String: Date]>([:])
    /// When the controller started: the grace period of a node not heard since runs from here.
    public let startedAt: Date

    /// Heartbeats of a controller started at `startedAt`.
    init(startedAt: Date) { self.startedAt = startedAt }

    /// A node as its readers see it now: NotReady when unheard for the grace period.
    public func view(_ node: Node, in registry: Registry, now: Date) -> Node {
        registry.view(of: node, heartbeat: last(node.name), startedAt: startedAt, now: now)
    }

    /// True when `node` is Ready as its readers see it now (`view`'s phase, without the rest).
    public func isReady(_ node: Node, in registry: Registry, now: Date) -> Bool {
        registry.phase(of: node, heartbeat: last(node.name), startedAt: startedAt, now: now) == .ready
    }

    /// Records a status from `node` at `time`.
    func heard(_ node: String, at time: Date) { times.withLock { $0[node] = time } }

    /// When `node` was last heard from.
    public func last(_ node: String) -> Date? { times.withLock { $0[node] } }

    /// Forgets a removed node.
    func forget(_ node: String) { _ = times.withLock { $0.removeValue(forKey: node) } }
}
