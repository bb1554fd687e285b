import ArgumentParser
import Foundation
import TansiqCommand

/// The `tansiq` command: operators' and ministries' CLI.
@main
struct Tansiq: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tansiq",
        abstract: "Shared data-centre hosting: apply manifests, see quotas, placements and usage.",
        discussion: """
            Exit status: 0 success; 1 the request failed (server refused, unreachable, unreadable path);
            2 the input is invalid (manifest or usage).
            """,
        version: "0.1.0",
        subcommands: [
            Validate.self, Apply.self, Diff.self, Plan.self, Delete.self, Get.self, Describe.self, EventsCommand.self,
            AuditCommand.self, RolloutCommand.self, ScaleCommand.self, NodeCommand.self, CapacityCommand.self,
            QuotaCommand.self, RequestCommand.self, UsageCommand.self, TokenCommand.self, SecretCommand.self,
            LogsCommand.self,
            ConfigCommand.self, Dev.self, CompletionCommand.self,
        ]
    )

    /// Runs the command with DESIGN.md's exit codes (usage errors 2).
    static func main() async {
        Output.prepare()
        await mainMappingUsageErrors()
    }
}
