import ArgumentParser
import Foundation
import Logging
import TansiqAPI
import TansiqCommand
import TansiqGateway
import TansiqModel

/// `tansiq-gateway`: publishes exposed applications through a real nginx.
@main
struct Gateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tansiq-gateway",
        abstract: "The Tansiq gateway: publishes the applications' exposed ports through nginx.",
        discussion: """
            Exit status: 0 stopped by SIGTERM or SIGINT; 1 the gateway failed (the controller refused its
            token, nginx refused its configuration or could not start); 2 the usage is invalid.
            """,
        version: "0.1.0",
        subcommands: [Run.self]
    )

    /// Runs the command with DESIGN.md's exit codes (usage errors 2).
    static func main() async { await mainMappingUsageErrors() }
}

/// `tansiq-gateway run`.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow the endpoints and drive an nginx of the gateway's own.",
        discussion: """
            Starts and supervises its own nginx master (nginx -p DIR -c DIR/nginx.conf, not the system's
            service). At every change of the endpoints it renders an upstream per exposed port of an
            application and a server block per host into DIR/nginx.conf, checks the file with nginx -t, reloads
            with nginx -s reload, waits until the new workers serve, and reports the endpoints version it
            applied (PUT /v1/gateways/NAME/status) — also every 10 seconds when nothing changes. A request for
            an unknown host gets 404; an application without a ready instance 503. The token (role gateway)
            is read from --token-file. Run as root, nginx's workers run as nobody.
            """)

    @Option(help: "A controller, https://HOST:PORT (repeatable: every controller of the cluster).")
    var server: [String]
    @Option(help: "The cluster CA certificate file.") var ca: String
    @Option(name: .customLong("token-file"), help: "A file holding the gateway's token (role gateway).")
    var tokenFile: String
    @Option(help: "The gateway's name (a DNS label), as it reports itself.") var name: String
    @Option(name: .customLong("config-dir"), help: "nginx's prefix: its configuration, pid, logs and temporary files.")
    var configDir: String
    @Option(name: .customLong("http-port"), help: "The port plain HTTP is served on.") var httpPort: Int
    @Option(name: .customLong("https-port"), help: "The port HTTPS is served on (with --tls-cert and --tls-key).")
    var httpsPort: Int?
    @Option(name: .customLong("tls-cert"), help: "The PEM certificate (chain) HTTPS presents.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "Its PEM private key.") var tlsKey: String?
    @Option(help: "The nginx executable.") var nginx: String = "/usr/sbin/nginx"
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard !server.isEmpty else { throw ValidationError("Missing expected argument '--server <server>'") }
        guard Names.isDNSLabel(name) else { throw ValidationError("--name \(name): expected a DNS label") }
        for (flag, port) in [("--http-port", httpPort), ("--https-port", httpsPort ?? 1)]
        where !(1...65535).contains(port) {
            throw ValidationError("\(flag) \(port): expected 1 to 65535")
        }
        if httpsPort == httpPort { throw ValidationError("--https-port must differ from --http-port") }
        let tls = [httpsPort != nil, tlsCert != nil, tlsKey != nil]
        if tls.contains(true) && tls.contains(false) {
            throw ValidationError("HTTPS needs --https-port, --tls-cert and --tls-key together")
        }
        for file in [ca, tokenFile] + [tlsCert, tlsKey].compactMap({ $0 })
        where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("\(file): cannot be read")
        }
        guard FileManager.default.isExecutableFile(atPath: nginx) else {
            throw ValidationError("--nginx \(nginx): not an executable (install Debian's nginx package)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level \(logLevel): unknown level")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tansiq-gateway")
        let token = (try String(contentsOfFile: tokenFile, encoding: .utf8)).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let absolute = { (path: String) in
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
        let settings = GatewaySettings(
            name: name, configDir: absolute(configDir), httpPort: httpPort,
            https: httpsPort.map {
                GatewaySettings.HTTPS(port: $0, certificate: absolute(tlsCert!), key: absolute(tlsKey!))
            },
            workerUser: getuid() == 0 ? "nobody nogroup" : nil)
        let client = try TansiqClient(servers: server, trust: .caFile(ca), token: token)
        let runner = GatewayRunner(settings: settings, nginx: nginx, client: client, logger: logger)
        let task = Task { try await runner.run() }
        let signals = [SIGTERM, SIGINT].map { signal -> DispatchSourceSignal in
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal)
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer { for source in signals { source.cancel() } }
        do {
            try await task.value
        } catch is CancellationError {
        } catch {
            await runner.shutdown()
            await client.shutdown()
            FileHandle.standardError.write(Data("tansiq-gateway: error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        await runner.shutdown()
        await client.shutdown()
    }
}
