import ArgumentParser
import Foundation

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
        subcommands: [Validate.self]
    )

    /// Runs the command, mapping outcomes onto DESIGN.md's exit codes: ArgumentParser's usage
    /// errors (which it would report as 64) become 2.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error, usageCode: ExitCode(2))
        }
    }

    /// Prints the error as ArgumentParser would, with usage errors exiting `usageCode`.
    static func exit(withError error: Error, usageCode: ExitCode) -> Never {
        let code = exitCode(for: error)
        let message = fullMessage(for: error)
        if !message.isEmpty {
            let stream = code == .success ? FileHandle.standardOutput : FileHandle.standardError
            stream.write(Data((message + "\n").utf8))
        }
        Foundation.exit(code == .validationFailure ? usageCode.rawValue : code.rawValue)
    }
}
