import AsyncHTTPClient
import Foundation
import Logging
import TansiqAPI
import TansiqModel
import TansiqRegistry
import X509

/// `tansiq-agent run`: long-polls the node's assignments and converges onto them, reports status
/// every few seconds with jitter, keeps instances healthy, renews the certificate, and — when
/// the controller is unreachable — keeps everything running and retries with backoff.
public final class AgentRunner: Sendable {
    let directory: AgentDirectory
    let config: AgentConfig
    let connection: ControllerConnection
    let supervisor: Supervisor
    let cgroups: Cgroups
    let runtime: any InstanceRuntime
    let registry: RegistryClient
    let health: HTTPClient
    let logger: Logger
    /// When the controller last answered.
    private let lastContact = Locked(Date())
    /// The highest leader epoch seen: a deposed leader's assignments are ignored.
    let epoch: EpochFence
    /// Where the node's instances are reached (reported in its status).
    let address: String?
    /// Where the log server listens.
    let listen: ListenAddress
    /// The port the log server bound, once it has.
    private let logPort = Locked<Int?>(nil)
    /// When the assignments last moved (instances to start or stop): the pages their starts
    /// touched are released once the node has been quiet for a while (`StartupPages`).
    private let changedAt = Locked<Date?>(nil)

    /// An agent over a joined data directory. `adjust` changes the runtime options `join`
    /// recorded (the flags of `run` win); `allowUnisolated` lets a node without runc run
    /// instances as bare processes. Throws when the node has no runc and `allowUnisolated` is
    /// false, or the options are invalid.
    public init(
        directory: AgentDirectory, logger: Logger,
        adjust: (RuntimeOptions) throws -> RuntimeOptions = { $0 }, allowUnisolated: Bool = false,
        address: String? = nil, listen: String? = nil
    ) throws {
        self.directory = directory
        self.logger = logger
        guard let data = FileManager.default.contents(atPath: directory.config) else {
            throw AgentError.invalid("\(directory.path) holds no joined node: run `tansiq-agent join` first")
        }
        config = try JSONDecoder().decode(AgentConfig.self, from: data)
        let options = try adjust(config.runtime ?? RuntimeOptions())
        let listenText = listen ?? config.listen ?? AgentConfig.defaultListen
        guard let listenAddress = ListenAddress(listenText) else {
            throw AgentError.invalid("--listen \(listenText): expected HOST:PORT, [IPv6]:PORT or :PORT")
        }
        self.listen = listenAddress
        self.address = address ?? config.address ?? Facts.outboundAddress(toward: config.server)
        try RuntimeOptions.check(hostPaths: options.isolation.hostPaths, dataDir: directory.path)
        connection = try ControllerConnection(servers: config.allServers, name: config.name, directory: directory)
        epoch = EpochFence(file: directory.epoch)
        cgroups = Cgroups.detect(agent: config.name)
        if let runc = Spawn.which("runc") {
            runtime = try RuncRuntime(
                runc: runc, directory: directory, node: config.name, settings: options.isolation, cgroups: cgroups)
        } else if allowUnisolated {
            runtime = ProcessRuntime(cgroups: cgroups)
        } else {
            throw AgentError.invalid(
                "runc is not installed on this node, and instances are never run unisolated in production: "
                    + "install runc (Debian's `runc` package), or pass --allow-unisolated on a development machine")
        }
        registry = try RegistryClient(access: options.registry)
        health = HTTPClient(eventLoopGroupProvider: .singleton)
        let images = ImageStore(directory: directory.images, registry: registry, cacheBytes: options.imageCacheBytes)
        supervisor = Supervisor(
            directory: directory, runtime: runtime, images: images, portRange: config.portRange, http: health)
    }

    /// Runs until the task is cancelled. Instances keep running when the agent stops.
    public func run() async throws {
        try FileManager.default.createDirectory(atPath: directory.instances, withIntermediateDirectories: true)
        let adopted = await supervisor.adopt()
        logger.info(
            "agent started",
            metadata: [
                "node": "\(config.name)", "servers": "\(config.allServers.joined(separator: ","))",
                "enforcement": "\(cgroups.enforcement.rawValue)", "isolation": "\(runtime.isolation.rawValue)",
                "adopted": "\(adopted)", "address": "\(address ?? "-")", "logs": "\(listen.host):\(listen.port)",
            ])
        let logs = LogServer(directory: directory, isAssigned: { [supervisor] id in await supervisor.manages(id) })
        let logApplication = try logs.application(address: listen, logger: logger) { port in
            self.logPort.withLock { $0 = port }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The log server failing to start (its port taken) stops the agent: an operator sees it.
            group.addTask { try await logApplication.runService() }
            group.addTask { await self.pollAssignments() }
            group.addTask { await self.reportStatus() }
            group.addTask { await self.upkeep() }
            group.addTask { await self.renewCertificate() }
            defer { group.cancelAll() }
            try await group.next()
        }
        await connection.shutdown()
        try? await health.shutdown()
    }

    private func contacted() { lastContact.withLock { $0 = Date() } }

    /// How long a status report may take: two intervals, at least 5 s.
    private var reportTimeout: Double { max(5, config.statusInterval * 2) }

    /// Seconds since the controller last answered, once that is longer than two status
    /// intervals (a status answered is contact); 0 while it answers.
    private var disconnectedFor: TimeInterval {
        let age = Date().timeIntervalSince(lastContact.withLock { $0 })
        return age > max(2, config.statusInterval * 2) ? age : 0
    }

    private func pollAssignments() async {
        var after: Int64 = 0
        var backoff = 1.0
        while !Task.isCancelled {
            do {
                let assignments = try await connection.assignments(after: after, wait: 30)
                contacted()
                backoff = 1
                guard epoch.admit(assignments.epoch) else {
                    // A controller that no longer leads: its word is stale. The next call finds
                    // the leader (or this one, once it knows it has been deposed).
                    logger.warning(
                        "ignored assignments of a deposed leader",
                        metadata: ["epoch": "\(assignments.epoch ?? 0)", "highest": "\(epoch.highest)"])
                    after = 0
                    try? await Task.sleep(for: .milliseconds(500))
                    continue
                }
                if assignments.resourceVersion != after { changedAt.withLock { $0 = Date() } }
                after = assignments.resourceVersion
                await supervisor.converge(assignments.instances)
            } catch {
                logger.warning("assignments unavailable; instances keep running", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(Int64(backoff * Double.random(in: 800...1200))))
                backoff = min(30, backoff * 2)
            }
        }
    }

    /// The node's status now.
    func status() async -> AgentProtocol.Status {
        let capacity = config.capacity ?? Facts.measure(dataDir: directory.path)
        return AgentProtocol.Status(
            capacity: capacity, allocatable: Facts.allocatable(capacity, reserve: config.reserve),
            labels: config.labels,
            enforcement: cgroups.enforcement, isolation: runtime.isolation, instances: await supervisor.reports(),
            address: address, logPort: logPort.withLock { $0 })
    }

    private func reportStatus() async {
        var releasedAt: Date?
        while !Task.isCancelled {
            do {
                try await connection.report(await status(), timeout: reportTimeout)
                contacted()
                let now = Date()
                if StartupPages.isDue(releasedAt: releasedAt, changedAt: changedAt.withLock { $0 }, now: now) {
                    // Running (and quiet) now: the pages only starting touched go back to the node.
                    releasedAt = now
                    let advised = StartupPages.release()
                    logger.debug("startup pages released", metadata: ["mappedBytes": "\(advised)"])
                }
            } catch {
                logger.warning("status not delivered", metadata: ["error": "\(error)"])
            }
            let jitter = Double.random(in: 0.8...1.2)
            try? await Task.sleep(for: .milliseconds(Int64(config.statusInterval * 1000 * jitter)))
        }
    }

    private func upkeep() async {
        var lastStatus = Date()
        while !Task.isCancelled {
            await supervisor.tick(disconnectedFor: disconnectedFor)
            // A change of phase is reported at once (at most four reports a second), not only at
            // the next interval: the endpoints follow instances' health.
            if Date().timeIntervalSince(lastStatus) >= 0.25, await supervisor.takeChanged() {
                lastStatus = Date()
                if (try? await connection.report(await status(), timeout: reportTimeout)) != nil { contacted() }
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Renews the certificate when less than a third of its life is left.
    private func renewCertificate() async {
        while !Task.isCancelled {
            if let pem = try? String(contentsOfFile: directory.certificate, encoding: .utf8),
                let certificate = try? Certificate(pemEncoded: pem)
            {
                let life = certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore)
                if certificate.notValidAfter.timeIntervalSinceNow < life / 3 {
                    do {
                        let key = try NodeKey(pem: try String(contentsOfFile: directory.key, encoding: .utf8))
                        let renewed = try await connection.renew(csr: try key.csr(commonName: config.name))
                        try directory.write(Data(renewed.certificate.utf8), to: directory.certificate, mode: 0o644)
                        try connection.reload(directory)
                        logger.info("certificate renewed")
                    } catch {
                        logger.warning("certificate renewal failed", metadata: ["error": "\(error)"])
                    }
                }
            }
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
