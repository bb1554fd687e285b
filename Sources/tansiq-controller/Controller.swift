import ArgumentParser
import Foundation
import TansiqCommand

/// `tansiq-controller`: the cluster's single source of truth.
@main
struct Controller: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tansiq-controller",
        abstract: "The Tansiq controller: admits, schedules and serves the cluster's API over HTTPS.",
        discussion: """
            Exit status: 0 success; 1 the command failed (a cluster already exists, the data directory
            is unusable, the port is taken); 2 the usage is invalid.
            """,
        version: "0.1.0",
        subcommands: [Init.self, Run.self, Migrate.self, Backup.self, RotateSecretsKey.self]
    )

    /// Runs the command with DESIGN.md's exit codes (usage errors 2).
    static func main() async { await mainMappingUsageErrors() }
}

/// Writes a line to stderr.
func printError(_ message: String) {
    FileHandle.standardError.write(Data(("tansiq-controller: error: " + message + "\n").utf8))
}
