import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel

/// `tansiq rollout status|history|undo APP -m MINISTRY`.
struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout", abstract: "Follow, list and undo an application's rollouts.",
        subcommands: [RolloutStatus.self, RolloutHistory.self, RolloutUndo.self])
}

/// What the rollout commands share: the application.
struct AppOptions: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The application.") var name: String
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "Its ministry.") var ministry: String
}

/// `tansiq rollout status APP -m M [--timeout 10m]`.
struct RolloutStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Wait until the rollout completes (exit 0) or fails (exit 1), showing its progress.")
    @OptionGroup var app: AppOptions
    @Option(help: "How long to wait (e.g. 10m).") var timeout: String = "10m"

    func validate() throws {
        guard (try? Span.parse(timeout)) != nil else { throw ValidationError("--timeout \(timeout): like 10m") }
    }

    func run() async throws {
        try await app.connection.withClient { client in
            let deadline = Date().addingTimeInterval(try Span.parse(timeout).seconds)
            var progress = Progress()
            while true {
                let current = try await client.application(ministry: app.ministry, name: app.name)
                let status = current.status
                let target = status?.targetGeneration ?? 1
                let updated = status?.updated ?? 0
                let available = status?.available ?? 0
                let desired = status?.desired ?? current.spec.replicas
                switch status?.rollout {
                case "Complete":
                    progress.finish(
                        "application \(app.ministry)/\(app.name) generation \(target) rolled out: \(available) of "
                            + "\(desired) available")
                    return
                case "Failed":
                    progress.finish("application \(app.ministry)/\(app.name) generation \(target) failed")
                    throw CLIError.failed(status?.message ?? "the rollout failed")
                default:
                    progress.update(
                        "waiting for generation \(target): \(updated) of \(desired) updated, \(available) available"
                            + (status?.message.map { " (\($0))" } ?? ""))
                }
                if Date() > deadline { throw CLIError.failed("rollout status timed out after \(timeout)") }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

/// `tansiq rollout history APP -m M`.
struct RolloutHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "The generations the application keeps: when each was applied, by whom, and its image digest.")
    @OptionGroup var app: AppOptions

    func run() async throws {
        try await app.connection.withClient { client in
            let revisions = try await client.revisions(ministry: app.ministry, name: app.name).items
            let current = try await client.application(ministry: app.ministry, name: app.name).status?.targetGeneration
            var rows = [["GENERATION", "APPLIED", "BY", "IMAGE", "DIGEST", "COMMAND"]]
            for revision in revisions {
                rows.append([
                    String(revision.generation) + (revision.generation == current ? " (current)" : ""),
                    RFC3339.format(revision.appliedAt), revision.appliedBy, Cell.text(revision.spec.image),
                    Cell.short(revision.imageDigest), Cell.text(revision.spec.run.command.joined(separator: " ")),
                ])
            }
            Output.line(Table.render(rows), terminator: "")
        }
    }
}

/// `tansiq rollout undo APP -m M [--to-generation N]`.
struct RolloutUndo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo",
        abstract: "Apply the previous generation's template again (its image digest too), as a new generation.")
    @OptionGroup var app: AppOptions
    @Option(name: .customLong("to-generation"), help: "A generation of `rollout history` other than the previous.")
    var generation: Int64?

    func run() async throws {
        try await app.connection.withClient { client in
            let current = try await client.application(ministry: app.ministry, name: app.name)
            let revisions = try await client.revisions(ministry: app.ministry, name: app.name).items
            let from = current.status?.targetGeneration ?? 1
            let source = generation ?? revisions.last { $0.generation < from }?.generation
            let result = try await client.rollback(ministry: app.ministry, name: app.name, to: generation)
            let after = try await client.application(ministry: app.ministry, name: app.name)
            let action = result.items.first?.action ?? "configured"
            Output.line(
                "application \(app.ministry)/\(app.name) rolled back to the template of generation "
                    + "\(source.map(String.init) ?? "?") (\(action); now generation \(after.metadata.generation ?? 0)"
                    + (after.status?.imageDigest.map { ", image \($0)" } ?? "") + ")")
        }
    }
}

/// `tansiq scale APP -m M --replicas N`.
struct ScaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale", abstract: "Change an application's replicas (admitted against the quota like an apply).")
    @OptionGroup var app: AppOptions
    @Option(help: "The number of instances.") var replicas: Int

    func validate() throws {
        guard (0...10_000).contains(replicas) else { throw ValidationError("--replicas \(replicas): 0 to 10000") }
    }

    func run() async throws {
        try await app.connection.withClient { client in
            let result = try await client.scale(ministry: app.ministry, name: app.name, replicas: replicas)
            for warning in result.warnings { Output.error("warning: \(warning)") }
            Output.line(
                "application \(app.ministry)/\(app.name) scaled to \(replicas) (\(result.items.first?.action ?? "-"))")
        }
    }
}
