import Foundation
import Logging
import Metrics
import ServiceLifecycle
import TansiqRegistry
import TansiqStore

/// Who leads, and what a controller does about it. A controller takes the lease when it has
/// expired and leads a term: it loads the state from the store, gives every node a full grace
/// period, runs the loops and serves the API, renewing the lease every `ttl / 3`. It steps down
/// at once when a renewal says the lease is gone, when it cannot renew before the lease would
/// have expired, or when a commit is refused as fenced or stale; it then forwards to whoever
/// leads. On SQLite (`SoleLease`) the one controller leads from the start and never steps down.
public actor Leadership: Service {
    /// What a term needs besides the store.
    public struct Settings: Sendable {
        /// This process: unique per start.
        public var holder: String
        /// Where the others reach this controller (`run --advertise`).
        public var advertise: String
        /// How long a lease lasts unrenewed (`run --lease-ttl`).
        public var ttl: Duration
        public var gracePeriod: TimeInterval
        public var uidBase: Int
        public var auditCheckpoint: Duration
        public var retention: TimeInterval
        /// How long history is kept in detail (`run --audit-archive-after`, `--usage-detail`).
        public var history: RetentionLoop.History
        /// How many events the store keeps, the newest (`run --max-events`).
        public var maxEvents: Int64

        public init(
            holder: String, advertise: String, ttl: Duration = .seconds(15),
            gracePeriod: TimeInterval = Registry.defaultGracePeriod, uidBase: Int = Registry.defaultUIDBase,
            auditCheckpoint: Duration = .seconds(60), retention: TimeInterval = Registry.defaultRetention,
            history: RetentionLoop.History = RetentionLoop.History(), maxEvents: Int64 = EventsCapacity.rows
        ) {
            self.history = history
            self.maxEvents = maxEvents
            self.holder = holder
            self.advertise = advertise
            self.ttl = ttl
            self.gracePeriod = gracePeriod
            self.uidBase = uidBase
            self.auditCheckpoint = auditCheckpoint
            self.retention = retention
        }
    }

    /// A term of leadership.
    private struct Term {
        let fence: Fence
        let server: ControllerServer
        let loops: Task<Void, Never>
    }

    let store: any Store
    let keeper: any LeaseKeeper
    /// The data directory: the secrets key is read from it at the start of every term.
    let dataDir: DataDirectory
    let gate: LeaderGate
    let settings: Settings
    let metrics: ControllerMetrics
    let ca: CertificateAuthority
    let registry: RegistryClient
    let throttle: AuthThrottle
    let logger: Logger
    private let forwarder: Forwarder?
    private var term: Term?
    /// When the last renewal that succeeded was sent.
    private var renewedAt = ContinuousClock.now
    /// The highest epoch seen, for `tansiq_leader_changes_total`.
    private var seenEpoch: Int64 = 0
    /// When a follower looks again: soon after the leader's lease would expire, at most a second on.
    private var followerPause = Duration.seconds(1)

    init(
        store: any Store, keeper: any LeaseKeeper, dataDir: DataDirectory, forwarder: Forwarder?, settings: Settings,
        metrics: ControllerMetrics, ca: CertificateAuthority, registry: RegistryClient, throttle: AuthThrottle,
        logger: Logger
    ) {
        self.store = store
        self.keeper = keeper
        self.dataDir = dataDir
        self.forwarder = forwarder
        self.gate = LeaderGate(forwarder: forwarder)
        self.settings = settings
        self.metrics = metrics
        self.ca = ca
        self.registry = registry
        self.throttle = throttle
        self.logger = logger
    }

    /// The cluster of the current term, if this controller leads.
    public var cluster: Cluster? { term?.server.cluster }

    /// Takes the lead if the lease is free, else learns who leads: the first round, before the
    /// server accepts connections (on SQLite it always leads).
    public func start() async { await round() }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let pause = term == nil ? min(followerPause, settings.ttl / 3) : settings.ttl / 3
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            if Task.isCancelled || Task.isShuttingDownGracefully { break }
            await round()
        }
        // The loops stop first; the term's cluster keeps answering the requests being drained
        // until `finish()`.
        if let term {
            term.loops.cancel()
            await term.loops.value
        }
    }

    /// After the server has stopped: signs the audit log's head a last time, stops the term,
    /// gives the lease up (so another controller takes over at once) and closes the store.
    public func finish() async {
        if let term {
            do {
                try await term.server.cluster.checkpointAudit(key: ca.key, at: Date())
            } catch {
                logger.warning("last audit checkpoint failed", metadata: ["error": "\(error)"])
            }
            await end(term, reason: "shutting down")
            try? await keeper.release(term.fence)
        }
        do { try await store.close() } catch {
            logger.error("closing the store failed", metadata: ["error": "\(error)"])
        }
        await forwarder?.shutdown()
    }

    /// One round: renew while leading, else try to lead or follow.
    private func round() async {
        if let term {
            await renew(term)
        } else {
            await tryToLead()
        }
    }

    private func renew(_ term: Term) async {
        let sent = ContinuousClock.now
        do {
            if try await keeper.renew(term.fence, ttl: settings.ttl) {
                renewedAt = sent
            } else {
                await stepDown("the lease of epoch \(term.fence.epoch) was lost")
            }
        } catch {
            // The lease may expire before the database answers again: leave before it does.
            let margin = min(Duration.seconds(2), settings.ttl / 5)
            if ContinuousClock.now - renewedAt >= settings.ttl - margin {
                await stepDown("the lease could not be renewed in time: \(error)")
            } else {
                logger.warning("lease renewal failed; retrying", metadata: ["error": "\(error)"])
            }
        }
    }

    private func tryToLead() async {
        let sent = ContinuousClock.now
        do {
            if let fence = try await keeper.acquire(
                holder: settings.holder, url: settings.advertise, ttl: settings.ttl)
            {
                renewedAt = sent
                await lead(fence)
                return
            }
            let lease = try await keeper.lease()
            observe(lease.epoch)
            followerPause = .milliseconds(max(50, min(1000, lease.remainingMilliseconds + 20)))
            // A lease still held by an earlier run of this controller (same URL) names no one to
            // forward to: forwarding would come back here.
            let url = lease.isHeld && lease.url != settings.advertise && !lease.url.isEmpty ? lease.url : nil
            gate.follow(url, epoch: lease.epoch)
        } catch {
            logger.warning("cannot reach the store to take or read the lease", metadata: ["error": "\(error)"])
            gate.follow(nil, epoch: seenEpoch)
        }
    }

    /// Starts a term under `fence`.
    private func lead(_ fence: Fence) async {
        keeper.hold(fence)
        let started = ContinuousClock.now
        do {
            let cluster = try await ControllerServer.cluster(
                store: store, metrics: metrics, gracePeriod: settings.gracePeriod, uidBase: settings.uidBase,
                epoch: fence.epoch, advertise: settings.advertise, auditArchive: dataDir.auditArchive
            ) { [weak self] error in
                Task { await self?.stale(error, epoch: fence.epoch) }
            }
            // The key is read at the start of every term: a follower given the new key after a
            // rotation on another host takes it when it leads.
            let keyring = try SecretsKeyring(directory: dataDir, create: true)
            let server = ControllerServer(
                cluster: cluster, metrics: metrics, ca: ca, registry: registry, keyring: keyring, throttle: throttle)
            let group = ServiceGroup(
                services: server.loops(
                    logger: logger, auditCheckpoint: settings.auditCheckpoint, retention: settings.retention,
                    history: settings.history),
                logger: logger)
            let loops = Task {
                do { try await group.run() } catch {
                    self.logger.error("loops stopped", metadata: ["error": "\(error)"])
                }
            }
            term = Term(fence: fence, server: server, loops: loops)
            gate.lead(server.router)
            observe(fence.epoch)
            Gauge(label: "tansiq_leader", dimensions: [("epoch", String(fence.epoch))]).record(1)
            let (seconds, attoseconds) = (ContinuousClock.now - started).components
            let instances = await cluster.current.state.instances.count
            logger.notice(
                "leading",
                metadata: [
                    "epoch": "\(fence.epoch)", "url": "\(settings.advertise)",
                    "startSeconds": "\(String(format: "%.3f", Double(seconds) + Double(attoseconds) / 1e18))",
                    "instances": "\(instances)",
                ])
        } catch {
            logger.error("cannot start a term; giving the lease up", metadata: ["error": "\(error)"])
            keeper.hold(nil)
            try? await keeper.release(fence)
            gate.follow(nil, epoch: fence.epoch)
        }
    }

    /// A commit of the term of `epoch` was refused: the store moved on without it.
    private func stale(_ error: StoreError, epoch: Int64) async {
        guard let term, term.fence.epoch == epoch else { return }
        if case .conflict = error {
            // This controller's memory no longer matches the store (a commit whose outcome was
            // lost): start again from what is stored, through a new term.
            await stepDown("a commit conflicted with the stored state: \(error)", release: true)
        } else {
            await stepDown("\(error)")
        }
    }

    /// Leaves the current term: stops the loops and the cluster; requests are forwarded from now on.
    private func stepDown(_ reason: String, release: Bool = false) async {
        guard let term else { return }
        self.term = nil
        gate.follow(nil, epoch: term.fence.epoch)
        keeper.hold(nil)
        await end(term, reason: reason)
        if release { try? await keeper.release(term.fence) }
        Gauge(label: "tansiq_leader", dimensions: [("epoch", String(term.fence.epoch))]).record(0)
        logger.warning("stepped down", metadata: ["epoch": "\(term.fence.epoch)", "reason": "\(reason)"])
        await tryToLead()
    }

    private func end(_ term: Term, reason: String) async {
        term.loops.cancel()
        await term.loops.value
        await term.server.cluster.stop()
    }

    /// Counts a change of leader the first time its epoch is seen.
    private func observe(_ epoch: Int64) {
        if epoch > seenEpoch {
            if seenEpoch > 0 { Counter(label: "tansiq_leader_changes_total").increment() }
            seenEpoch = epoch
        }
    }
}
