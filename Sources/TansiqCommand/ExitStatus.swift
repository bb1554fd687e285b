import ArgumentParser
import Foundation

extension AsyncParsableCommand {
    /// Parses and runs the command tree, mapping outcomes onto DESIGN.md's exit codes: success 0,
    /// a failed request 1 (the command throws `ExitCode(1)`), usage errors 2 — ArgumentParser's
    /// own too, which it would report as 64.
    public static func mainMappingUsageErrors() async {
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                let stream = code == .success ? FileHandle.standardOutput : FileHandle.standardError
                stream.write(Data((message + "\n").utf8))
            }
            Foundation.exit(code == .validationFailure ? ExitCode(2).rawValue : code.rawValue)
        }
    }
}
