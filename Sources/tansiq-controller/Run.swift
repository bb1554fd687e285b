import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TansiqController
import TansiqModel
import TansiqRegistry

/// `tansiq-controller run`: serve the API.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the cluster's API over HTTPS from an initialised data directory.",
        discussion: """
            Serves HTTPS only (TLS 1.2 or later) on --listen. Prints `listening on https://HOST:PORT` on
            stdout once it accepts connections (with --listen HOST:0 the port is chosen by the system).
            SIGTERM or SIGINT drains requests in flight and closes the store cleanly.
            """)

    @Option(name: .customLong("data-dir"), help: "The data directory `init` created.")
    var dataDir: String

    @Option(help: "Where to listen: HOST:PORT, [IPv6]:PORT or :PORT (all interfaces).")
    var listen: String = "0.0.0.0:8443"

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

    func validate() throws {
        guard let kept = try? Span.parse(retention), kept.milliseconds >= 1000 else {
            throw ValidationError("--retention \(retention): expected a duration of at least 1s, like 24h")
        }
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
        let dir = DataDirectory(path: dataDir)
        let server: ControllerServer
        let app: any Service
        do {
            let grace = try Span.parse(gracePeriod).seconds
            server = try await ControllerServer.open(
                dataDir: dir, metrics: .bootstrap(), gracePeriod: grace, uidBase: uidBase,
                registry: RegistryAccess(caFiles: registryCAs, insecure: insecureRegistries),
                throttle: AuthThrottle(limit: authFailuresPerMinute))
            app = try server.application(
                host: address.host, port: address.port, tls: try ControllerServer.tlsConfiguration(dataDir: dir),
                logger: logger, idleTimeout: .milliseconds(try Span.parse(idleTimeout).milliseconds)
            ) { port in
                let shown = address.host.contains(":") ? "[\(address.host)]" : address.host
                FileHandle.standardOutput.write(Data("listening on https://\(shown):\(port)\n".utf8))
                logger.info("serving", metadata: ["address": "\(shown):\(port)", "dataDir": "\(dataDir)"])
            }
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [app]
                    + server.loops(
                        logger: logger, auditCheckpoint: .milliseconds(try Span.parse(auditCheckpoint).milliseconds),
                        retention: try Span.parse(retention).seconds),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("stopped", metadata: ["error": "\(error)"])
            try? await server.close()
            throw ExitCode(1)
        }
        try await server.close()
        logger.info("stopped cleanly")
    }
}

/// `HOST:PORT`, `[IPv6]:PORT` or `:PORT`.
struct ListenAddress {
    var host: String
    var port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }
}
