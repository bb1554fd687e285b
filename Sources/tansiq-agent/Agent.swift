import ArgumentParser
import Foundation
import Logging
import TansiqAgent
import TansiqCommand
import TansiqModel

/// `tansiq-agent`: runs on every node; joins once, then runs what the controller assigns.
@main
struct Agent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tansiq-agent",
        abstract: "The Tansiq node agent: joins a cluster, then runs the instances its node is assigned.",
        discussion: """
            Exit status: 0 success; 1 the command failed (the controller refused, is unreachable or
            presents the wrong CA; the data directory is unusable); 2 the usage is invalid.
            """,
        version: "0.1.0",
        subcommands: [Join.self, Run.self]
    )

    /// Runs the command with DESIGN.md's exit codes (usage errors 2).
    static func main() async { await mainMappingUsageErrors() }
}

/// How instances run, shared by `join` (which records them in agent.json) and `run` (whose
/// values, where given, win).
struct RuntimeFlags: ParsableArguments {
    @Option(
        name: .customLong("host-path"),
        help: "A host directory instances of the host runtime may read (repeatable), besides /usr, /etc and the like.")
    var hostPaths: [String] = []
    @Option(name: .customLong("registry-ca"), help: "A PEM file of a CA trusted for registries (repeatable).")
    var registryCAs: [String] = []
    @Option(
        name: .customLong("insecure-registry"), help: "HOST:PORT of a registry reached over plain HTTP (repeatable).")
    var insecureRegistries: [String] = []
    @Option(name: .customLong("tmp-size"), help: "Size of each instance's private /tmp (default 64Mi).")
    var tmpSize: String?
    @Option(name: .customLong("pids-limit"), help: "Processes each instance may have (default 1024).")
    var pidsLimit: Int?
    @Option(
        name: .customLong("image-cache-size"), help: "Unused images are removed beyond this size (default 10Gi).")
    var imageCacheSize: String?

    /// `base` with the flags that were given.
    func options(over base: RuntimeOptions) throws -> RuntimeOptions {
        try RuntimeOptions.parse(
            hostPaths: hostPaths.isEmpty ? base.isolation.hostPaths : hostPaths,
            tmpSize: tmpSize ?? String(base.isolation.tmpBytes), pidsLimit: pidsLimit ?? base.isolation.pidsLimit,
            imageCacheSize: imageCacheSize ?? String(base.imageCacheBytes),
            registryCAs: registryCAs.isEmpty ? base.registry.caFiles : registryCAs,
            insecureRegistries: insecureRegistries.isEmpty ? base.registry.insecure : insecureRegistries)
    }

    func validate() throws {
        do { _ = try options(over: RuntimeOptions()) } catch { throw ValidationError("\(error)") }
    }
}

func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data(("tansiq-agent: error: " + message + "\n").utf8))
    return ExitCode(1)
}

/// Where the node is reached, shared by `join` (recorded in agent.json) and `run` (given, they win).
struct NetworkFlags: ParsableArguments {
    @Option(
        help: """
            The IP address the node's instances are reached at (default: the one the connection to \
            the controller leaves from).
            """)
    var address: String?
    @Option(help: "Where to serve instances' logs to the controller: HOST:PORT or :PORT (default :10250).")
    var listen: String?

    func validate() throws {
        if let address, !IPAddress.isValid(address) {
            throw ValidationError("--address \(address): expected an IPv4 or IPv6 address")
        }
        if let listen, ListenAddress(listen) == nil {
            throw ValidationError("--listen \(listen): expected HOST:PORT, [IPv6]:PORT or :PORT")
        }
    }
}

/// `tansiq-agent join`.
struct Join: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join a cluster: pin its CA, make this node's key, and get its certificate.",
        discussion: """
            The private key is made here and never sent. The controller's presented chain must hold
            a CA whose SubjectPublicKeyInfo hashes to --ca-hash, or the token is not sent. Writes
            node.key (0600), node.crt, ca.crt and agent.json to --data-dir. Give --server once per
            controller of the cluster: the agent moves to the next when one cannot be reached.
            """)

    @Option(help: "A controller, https://HOST:PORT (repeatable: every controller of the cluster).")
    var server: [String]
    @Option(help: "A bootstrap token.") var token: String
    @Option(name: .customLong("ca-hash"), help: "sha256:HEX of the cluster CA's public key, as `init` printed it.")
    var caHash: String
    @Option(help: "This node's name (a DNS label).") var name: String
    @Option(name: .customLong("data-dir"), help: "Where the agent keeps its key, certificate and state.")
    var dataDir: String
    @Option(name: .customLong("label"), help: "A label k=v (repeatable): datacentre, zone, rack or any.")
    var labels: [String] = []
    @Option(help: "Kept back for the system, e.g. cpu=500m,memory=1Gi.") var reserve: String = ""
    @Option(help: "Declared capacity instead of the measured one, e.g. cpu=2,memory=4Gi,storage=20Gi,instances=50.")
    var capacity: String?
    @Option(name: .customLong("port-range"), help: "Ports given to instances, e.g. 30000-30999.")
    var portRange: String = "30000-32767"
    @Option(name: .customLong("status-interval"), help: "Seconds between status reports (jittered ±20%).")
    var statusInterval: Double = 5
    @OptionGroup var network: NetworkFlags
    @OptionGroup var runtime: RuntimeFlags

    func validate() throws {
        guard !server.isEmpty else { throw ValidationError("Missing expected argument '--server <server>'") }
        for label in labels where label.split(separator: "=", maxSplits: 1).count != 2 {
            throw ValidationError("--label \(label): expected KEY=VALUE")
        }
        guard statusInterval >= 0.2, statusInterval <= 300 else {
            throw ValidationError("--status-interval \(statusInterval): expected 0.2 to 300 seconds")
        }
        guard Self.range(portRange) != nil else {
            throw ValidationError("--port-range \(portRange): expected LOW-HIGH")
        }
        do {
            _ = try Facts.parseResources(reserve, flag: "--reserve")
            if let capacity { _ = try Facts.parseResources(capacity, flag: "--capacity") }
        } catch { throw ValidationError("\(error)") }
    }

    static func range(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 1, parts[0] <= parts[1], parts[1] <= 65535 else { return nil }
        return parts[0]...parts[1]
    }

    func run() async throws {
        let request = AgentJoin.Request(
            servers: server, token: token, caHash: caHash, name: name,
            labels: Dictionary(
                labels.map { label in
                    let pair = label.split(separator: "=", maxSplits: 1).map(String.init)
                    return (pair[0], pair[1])
                }, uniquingKeysWith: { _, last in last }),
            capacity: try capacity.map { try Facts.parseResources($0, flag: "--capacity") },
            reserve: try Facts.parseResources(reserve, flag: "--reserve"), portRange: Self.range(portRange)!,
            statusInterval: statusInterval, runtime: try runtime.options(over: RuntimeOptions()),
            address: network.address, listen: network.listen)
        do {
            let offered = try await AgentJoin.run(request, directory: AgentDirectory(path: dataDir))
            print("node \(name) joined \(server.joined(separator: ", ")), offering \(offered.description)")
            print("run it with: tansiq-agent run --data-dir \(dataDir)")
        } catch {
            throw fail("\(error)")
        }
    }
}

/// `tansiq-agent run`.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the node: converge its processes onto its assignments and report its status.",
        discussion: """
            Talks to the controller over mutual TLS only. Every instance runs in a runc container as its
            ministry's uid, with no capabilities, its own pid, mount, ipc and uts namespaces, a read-only
            root and a private /tmp; without runc the agent refuses to run, unless --allow-unisolated is
            given (a development machine only). Instances keep running when the agent stops or loses the
            controller; a restarted agent adopts them. Serves instances' logs on --listen (mutual TLS: the
            controller's certificate only). Runtime and network flags given here replace those of `join`.
            """)

    @Option(name: .customLong("data-dir"), help: "The directory `join` wrote.") var dataDir: String
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"
    @Flag(
        name: .customLong("allow-unisolated"),
        help: "Without runc, run instances as bare processes of the agent (a development machine only).")
    var allowUnisolated = false
    @OptionGroup var network: NetworkFlags
    @OptionGroup var runtime: RuntimeFlags

    func validate() throws {
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
        let runner: AgentRunner
        do {
            runner = try AgentRunner(
                directory: AgentDirectory(path: dataDir), logger: Logger(label: "tansiq-agent"),
                adjust: runtime.options(over:), allowUnisolated: allowUnisolated, address: network.address,
                listen: network.listen)
        } catch {
            throw fail("\(error)")
        }
        try await runner.run()
    }
}
