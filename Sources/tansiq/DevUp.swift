import ArgumentParser
import Foundation
import TansiqModel

/// `tansiq dev …`: the local cluster.
struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole system on this machine.", subcommands: [DevUp.self])
}

/// `tansiq dev up [-f DIR] [--agents N] [--data-dir DIR] [--port P]`.
struct DevUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a local cluster: the controller, N agents, the manifests applied; Ctrl-C stops it all.",
        discussion: """
            Runs the real binaries built beside this one (`swift build` builds them all): the controller with
            its embedded SQLite store in --data-dir, and --agents agents in distinct zones, each declaring a
            share of the host (2 cpu, 4Gi) and its own port range, joined over mutual TLS. Writes the CLI
            context `dev`, applies -f, waits until the applications run, prints them, then streams a line per
            change until Ctrl-C, when it stops everything it started. Running it again reuses the data dir.
            """)

    @Option(
        name: [.customShort("f"), .customLong("filename")],
        help: ArgumentHelp("Manifests to apply (file or directory).", valueName: "file|dir"))
    var filename: String = "manifests"
    @Option(help: "How many agents.") var agents: Int = 3
    @Option(name: .customLong("data-dir"), help: "Where the cluster keeps its state.") var dataDir: String =
        ".tansiq-dev"
    @Option(help: "The controller's port on 127.0.0.1.") var port: Int = 8443
    @Option(name: .customLong("wait-timeout"), help: "How long to wait for the applications (e.g. 2m).")
    var waitTimeout: String = "2m"

    func validate() throws {
        guard (1...26).contains(agents) else { throw ValidationError("--agents \(agents): 1 to 26") }
        guard (1...65535).contains(port) else { throw ValidationError("--port \(port): 1 to 65535") }
        guard (try? Span.parse(waitTimeout)) != nil else { throw ValidationError("--wait-timeout: a duration like 2m") }
    }

    func run() async throws {
        let cluster = try LocalCluster(
            dataDir: URL(fileURLWithPath: dataDir).standardizedFileURL.path, port: port, agents: agents)
        try await Output.run {
            do {
                try await cluster.start()
                try await cluster.applyAndWait(filename, timeout: try Span.parse(waitTimeout).seconds)
                try await cluster.watch()
            } catch {
                await cluster.stop()
                throw error
            }
            await cluster.stop()
        }
    }
}
