import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TansiqController
import TansiqModel
import TansiqRegistry
import TansiqStore

/// `tansiq-controller run`: serve the API.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the cluster's API over HTTPS from an initialised data directory.",
        discussion: """
            Serves HTTPS only (TLS 1.2 or later) on --listen. Prints `listening on https://HOST:PORT` on
            stdout once it accepts connections (with --listen HOST:0 the port is chosen by the system).
            SIGTERM or SIGINT drains requests in flight and closes the store cleanly.

            Without --store the store is SQLite in the data directory and this controller is the only
            one. With --store postgres://USER[:PASSWORD]@HOST[:PORT]/DB several controllers share one
            PostgreSQL database, each with a copy of the data directory and its own --advertise: one
            leads (it holds the lease, renewed every --lease-ttl / 3, and every commit it makes is
            fenced by it); the others forward every request to it and take over within --lease-ttl
            when it is gone.
            """)

    @Option(name: .customLong("data-dir"), help: "The data directory `init` created.")
    var dataDir: String

    @Option(help: "Where to listen: HOST:PORT, [IPv6]:PORT or :PORT (all interfaces).")
    var listen: String = "0.0.0.0:8443"

    @Option(
        help: ArgumentHelp(
            "The store: postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|prefer|require], shared by several "
                + "controllers (the password may come from PGPASSWORD); without it, SQLite in the data directory."))
    var store: String?

    @Option(
        help: ArgumentHelp(
            "Where the other controllers and clients reach this one: https://HOST:PORT (needed with --store; "
                + "default https://LISTEN)."))
    var advertise: String?

    @Option(
        name: .customLong("lease-ttl"),
        help: "How long the leader's lease lasts unrenewed (with --store); renewed every third of it (e.g. 15s).")
    var leaseTTL: String = "15s"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(
        name: .customLong("grace-period"),
        help: "How long a node may stay unheard before it is NotReady and its instances are replaced (e.g. 30s).")
    var gracePeriod: String = "30s"

    @Option(
        name: .customLong("uid-base"),
        help: "The uid and gid of the first ministry; each ministry created after gets the next, never reused.")
    var uidBase: Int = Registry.defaultUIDBase

    @Option(name: .customLong("registry-ca"), help: "A PEM file of a CA trusted for registries (repeatable).")
    var registryCAs: [String] = []

    @Option(
        name: .customLong("insecure-registry"), help: "HOST:PORT of a registry reached over plain HTTP (repeatable).")
    var insecureRegistries: [String] = []

    @Option(
        name: .customLong("auth-failures-per-minute"),
        help: "Failed authentications an address may make in a minute before its requests get 429 (0: no limit).")
    var authFailuresPerMinute: Int = 30

    @Option(
        name: .customLong("idle-timeout"),
        help:
            "Close a connection that sends nothing this long: idle, or stalled in its handshake or headers (e.g. 60s).")
    var idleTimeout: String = "60s"

    @Option(
        name: .customLong("audit-checkpoint"),
        help: "How often the audit log's head is signed with the cluster CA's key (and once at shutdown).")
    var auditCheckpoint: String = "1m"

    @Option(
        help: ArgumentHelp(
            "How long instances that ended (Lost, Preempted, Stopped) are kept before they are removed; "
                + "their usage and events stay."))
    var retention: String = "24h"

    @Option(
        name: .customLong("audit-archive-after"),
        help: ArgumentHelp(
            "How long audit records stay in the store; older ones, up to the last checkpoint among them, "
                + "move to DATA-DIR/audit-archive/ (files of JSON lines that tansiq audit verify still checks)."))
    var auditArchiveAfter: String = "168h"

    @Option(
        name: .customLong("usage-detail"),
        help: ArgumentHelp(
            "How long usage intervals are kept one by one; older ones are folded into a total per ministry "
                + "and UTC day (exact for whole days)."))
    var usageDetail: String = "840h"

    @Option(
        name: .customLong("max-events"),
        help: "How many events the store keeps: the newest; older ones are removed as new ones come (at least 1000).")
    var maxEvents: Int = Int(EventsCapacity.rows)

    func validate() throws {
        guard let kept = try? Span.parse(retention), kept.milliseconds >= 1000 else {
            throw ValidationError("--retention \(retention): expected a duration of at least 1s, like 24h")
        }
        for (flag, value) in [("--audit-archive-after", auditArchiveAfter), ("--usage-detail", usageDetail)] {
            guard let span = try? Span.parse(value), span.milliseconds >= 1000 else {
                throw ValidationError("\(flag) \(value): expected a duration of at least 1s, like 168h")
            }
        }
        guard maxEvents >= 1000 else { throw ValidationError("--max-events \(maxEvents): expected 1000 or more") }
        guard let checkpoint = try? Span.parse(auditCheckpoint), checkpoint.milliseconds >= 1000 else {
            throw ValidationError("--audit-checkpoint \(auditCheckpoint): expected a duration of at least 1s, like 1m")
        }
        guard let idle = try? Span.parse(idleTimeout), idle.milliseconds >= 1000 else {
            throw ValidationError("--idle-timeout \(idleTimeout): expected a duration of at least 1s, like 60s")
        }
        guard authFailuresPerMinute >= 0 else {
            throw ValidationError("--auth-failures-per-minute \(authFailuresPerMinute): expected 0 or more")
        }
        guard ListenAddress(listen) != nil else {
            throw ValidationError("--listen \(listen): expected HOST:PORT with a port from 0 to 65535")
        }
        guard let grace = try? Span.parse(gracePeriod), grace.milliseconds >= 1000 else {
            throw ValidationError("--grace-period \(gracePeriod): expected a duration of at least 1s, like 30s")
        }
        guard uidBase >= 1000, uidBase <= 2_000_000_000 else {
            throw ValidationError("--uid-base \(uidBase): expected a uid from 1000 to 2000000000")
        }
        for file in registryCAs where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("--registry-ca \(file): cannot read the file")
        }
        for host in insecureRegistries where ListenAddress(host) == nil || host.hasPrefix(":") {
            throw ValidationError("--insecure-registry \(host): expected HOST:PORT")
        }
        if let store {
            do { _ = try PostgresURL(store) } catch { throw ValidationError("\(error)") }
            guard advertise != nil else {
                throw ValidationError(
                    "--store needs --advertise https://HOST:PORT: how the other controllers reach this one")
            }
        }
        if let advertise {
            guard let url = URL(string: advertise), url.scheme == "https", url.host != nil, url.port != nil,
                url.path.isEmpty || url.path == "/"
            else { throw ValidationError("--advertise \(advertise): expected https://HOST:PORT") }
        }
        guard let ttl = try? Span.parse(leaseTTL), ttl.milliseconds >= 1000 else {
            throw ValidationError("--lease-ttl \(leaseTTL): expected a duration of at least 1s, like 15s")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level \(logLevel): expected trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() async throws {
        let address = ListenAddress(listen)!
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tansiq-controller")
        let node: ControllerNode
        do {
            let settings = Leadership.Settings(
                holder: "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))",
                advertise: advertise.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
                    ?? defaultAdvertise(address),
                ttl: .milliseconds(try Span.parse(leaseTTL).milliseconds),
                gracePeriod: try Span.parse(gracePeriod).seconds,
                uidBase: uidBase, auditCheckpoint: .milliseconds(try Span.parse(auditCheckpoint).milliseconds),
                retention: try Span.parse(retention).seconds,
                history: RetentionLoop.History(
                    auditArchiveAfter: try Span.parse(auditArchiveAfter).seconds,
                    usageDetail: try Span.parse(usageDetail).seconds), maxEvents: Int64(maxEvents))
            node = try await ControllerNode.open(
                dataDir: DataDirectory(path: dataDir), storeURL: store, settings: settings,
                listen: (address.host, address.port),
                idleTimeout: .milliseconds(try Span.parse(idleTimeout).milliseconds),
                registry: RegistryAccess(caFiles: registryCAs, insecure: insecureRegistries),
                throttle: AuthThrottle(limit: authFailuresPerMinute), logger: logger
            ) { port in
                let shown = address.host.contains(":") ? "[\(address.host)]" : address.host
                FileHandle.standardOutput.write(Data("listening on https://\(shown):\(port)\n".utf8))
                logger.info("serving", metadata: ["address": "\(shown):\(port)", "dataDir": "\(dataDir)"])
            }
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        // The server first: a group shuts down in reverse, so the leadership stops its loops
        // first — a controller that is stopping never marks nodes lost because it no longer
        // hears them — and the server drains what is in flight before the store closes.
        let group = ServiceGroup(
            configuration: .init(
                services: [node.application, node.leadership], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("stopped", metadata: ["error": "\(error)"])
            await node.leadership.finish()
            throw ExitCode(1)
        }
        await node.leadership.finish()
        logger.info("stopped cleanly")
    }

    /// `https://HOST:PORT` of `--listen` (the host's name for all interfaces; empty with port 0).
    private func defaultAdvertise(_ address: ListenAddress) -> String {
        guard address.port != 0 else { return "" }
        let host = address.host == "0.0.0.0" || address.host == "::" ? ProcessInfo.processInfo.hostName : address.host
        return "https://\(host.contains(":") ? "[\(host)]" : host):\(address.port)"
    }
}
