import ArgumentParser
import Foundation
import Yams

/// `tansiq config view|use-context|set-context`.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "The CLI's contexts (server, CA, token), like kubeconfig.",
        subcommands: [ConfigView.self, ConfigUse.self, ConfigSet.self])
}

/// `tansiq config view`: the config file, tokens hidden.
struct ConfigView: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view", abstract: "Print the config; tokens are never shown.")
    func run() async throws {
        var config = try CLIConfig.load()
        config.contexts = config.contexts.map { context in
            var hidden = context
            hidden.token = context.token == nil ? nil : "REDACTED"
            return hidden
        }
        Output.line(try YAMLEncoder().encode(config), terminator: "")
    }
}

/// `tansiq config use-context NAME`.
struct ConfigUse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "use-context", abstract: "Make a context current.")
    @Argument(help: "The context.") var name: String
    func run() async throws {
        var config = try CLIConfig.load()
        guard config.contexts.contains(where: { $0.name == name }) else {
            throw ValidationError("no context \(name) in \(CLIConfig.path)")
        }
        config.currentContext = name
        try config.save()
        Output.line("current context: \(name)")
    }
}

/// `tansiq config set-context NAME --server URL [--server URL ...] [--ca FILE] [--token TOKEN] [--use]`.
struct ConfigSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-context", abstract: "Add or replace a context.")
    @Argument(help: "The context.") var name: String
    @Option(
        help: ArgumentHelp(
            "The controller, https://HOST:PORT; repeat it for the controllers of one cluster (kept as `servers`)."))
    var server: [String]
    @Option(help: "The cluster CA certificate file.") var ca: String?
    @Option(help: "A bearer token.") var token: String?
    @Flag(help: "Make it the current context.") var use = false

    func validate() throws {
        guard !server.isEmpty else { throw ValidationError("Missing expected argument '--server <server>'") }
        for url in server where !(url.hasPrefix("https://")) {
            throw ValidationError("--server \(url): expected https://HOST:PORT")
        }
    }

    func run() async throws {
        var config = try CLIConfig.load()
        config.set(CLIConfig.Context(name: name, servers: server, ca: ca, token: token), use: use)
        try config.save()
        Output.line("context \(name) saved in \(CLIConfig.path)")
    }
}
