import ArgumentParser
import Foundation
import NIOCore
import TansiqAPI
import Yams

/// `--server`, `--ca`, `--token`, `--context`: where the controller is and who is calling.
/// Flags win, then `TANSIQ_SERVER`/`TANSIQ_CA`/`TANSIQ_TOKEN`, then the config file's context.
struct ConnectionOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The controller's URL, https://HOST:PORT (or $TANSIQ_SERVER); repeat it (or separate with commas) "
                + "for the controllers of one cluster: the next is tried when one cannot be reached."))
    var server: [String] = []
    @Option(help: "The cluster CA certificate file (or $TANSIQ_CA).") var ca: String?
    @Option(help: "A bearer token (or $TANSIQ_TOKEN).") var token: String?
    @Option(help: "A context of the config file other than the current one.") var context: String?

    /// Runs `body` with a client of the resolved connection; a CLIError is printed and becomes
    /// the exit status (1, or 2 for invalid input the controller refused).
    func withClient(
        readTimeout: TimeAmount = .seconds(75), _ body: (TansiqClient) async throws -> Void
    ) async throws {
        let connection = try resolve()
        try await Output.run {
            let client = try connection.client(readTimeout: readTimeout)
            do {
                try await body(client)
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
    }

    /// The resolved connection, or a usage error saying what is missing.
    func resolve() throws -> Connection {
        let environment = ProcessInfo.processInfo.environment
        let config = try CLIConfig.load()
        let named = context ?? config.currentContext
        let fromFile = named.flatMap { name in config.contexts.first { $0.name == name } }
        if let context, fromFile == nil {
            throw ValidationError("--context \(context): no such context in \(CLIConfig.path)")
        }
        let given = server.flatMap { $0.split(separator: ",").map(String.init) }
        let servers =
            !given.isEmpty
            ? given
            : environment["TANSIQ_SERVER"].map { $0.split(separator: ",").map(String.init) } ?? fromFile?.allServers
                ?? []
        guard !servers.isEmpty else {
            throw ValidationError("no controller: pass --server, set TANSIQ_SERVER, or `tansiq config set-context`")
        }
        return Connection(
            servers: servers.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
            ca: ca ?? environment["TANSIQ_CA"] ?? fromFile?.ca,
            token: token ?? environment["TANSIQ_TOKEN"] ?? fromFile?.token)
    }
}

/// Where and as whom.
struct Connection: Sendable {
    /// The controllers, tried in turn.
    var servers: [String]
    var ca: String?
    var token: String?

    /// The first controller.
    var server: String { servers[0] }
}

/// `~/.config/tansiq/config.yaml` (or `$TANSIQ_CONFIG`): named contexts, like kubeconfig.
struct CLIConfig: Codable, Equatable {
    /// A context: one controller (`server`) or the controllers of one cluster (`servers`).
    struct Context: Codable, Equatable {
        var name: String
        var server: String?
        var servers: [String]?
        var ca: String?
        var token: String?

        /// A context of `servers`: written as `server` when there is one, else as `servers`.
        init(name: String, servers: [String], ca: String?, token: String?) {
            self.name = name
            self.server = servers.count == 1 ? servers[0] : nil
            self.servers = servers.count == 1 ? nil : servers
            self.ca = ca
            self.token = token
        }

        /// `server` then `servers`, each once.
        var allServers: [String]? {
            var all: [String] = []
            for server in [server].compactMap({ $0 }) + (servers ?? []) where !all.contains(server) {
                all.append(server)
            }
            return all.isEmpty ? nil : all
        }
    }

    var currentContext: String?
    var contexts: [Context] = []

    static var path: String {
        if let path = ProcessInfo.processInfo.environment["TANSIQ_CONFIG"] { return path }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + "/.config/tansiq/config.yaml"
    }

    static func load() throws -> CLIConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return CLIConfig() }
        do {
            return try YAMLDecoder().decode(CLIConfig.self, from: text)
        } catch {
            throw ValidationError("\(path) cannot be read: \(error)")
        }
    }

    /// Adds or replaces a context, and makes it current when `use`.
    mutating func set(_ context: Context, use: Bool) {
        contexts.removeAll { $0.name == context.name }
        contexts.append(context)
        if use || currentContext == nil { currentContext = context.name }
    }

    func save() throws {
        let directory = (Self.path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let text = try YAMLEncoder().encode(self)
        guard
            FileManager.default.createFile(
                atPath: Self.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw ValidationError("cannot write \(Self.path)") }
    }
}
