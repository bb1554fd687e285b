import ArgumentParser
import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel

/// `tansiq apply -f FILE|DIR [--dry-run] [--wait [--timeout 5m]]`.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update the manifests' objects, all or none.",
        discussion: """
            Checks the manifests locally first (errors as FILE:LINE:COLUMN, exit 2), then sends them as one
            YAML stream. Prints one line per object: created, configured or unchanged. With --wait, waits
            until every applied application has its replicas ready, printing their progress.
            """)

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var files: ManifestFiles

    @Flag(name: .customLong("dry-run"), help: "Check with the controller, change nothing.") var dryRun = false
    @Flag(help: "Wait until the applied applications are ready.") var wait = false
    @Option(help: "How long --wait waits (e.g. 5m, 90s).") var timeout: String = "5m"

    func validate() throws {
        guard (try? Span.parse(timeout)) != nil else {
            throw ValidationError("--timeout \(timeout): a duration like 5m")
        }
    }

    func run() async throws {
        try await connection.withClient { client in
            let objects = try Self.load(files.filename, cluster: try await Self.facts(client))
            let applied = try await Self.apply(objects, client: client, dryRun: dryRun)
            if wait && !dryRun {
                let deadline = Date().addingTimeInterval(try Span.parse(timeout).seconds)
                try await Self.waitReady(applied, client: client, until: deadline)
            }
        }
    }

    /// What the manifests may refer to: the ministries the caller can read in the cluster.
    static func facts(_ client: TansiqClient) async throws -> ClusterFacts {
        let ministries = try await client.ministries().items
        // The secrets of the ministries the caller may read, so that a reference to one that does
        // not exist is shown at its place in the file.
        var secrets: [String: Set<String>] = [:]
        for ministry in ministries {
            let names = try await client.unlessNotFound { try await client.secrets(ministry: ministry.metadata.name) }
            secrets[ministry.metadata.name] = Set((names?.items ?? []).map(\.metadata.name))
        }
        // A ministry role sees only its own ministry: references to others are the controller's to judge.
        return ClusterFacts(
            ministries: Dictionary(ministries.map { ($0.metadata.name, $0) }, uniquingKeysWith: { a, _ in a }),
            complete: false, secrets: secrets)
    }

    /// The manifests of `paths` (`-` reads stdin), checked locally against `cluster`: exit 2
    /// with every error when invalid.
    static func load(
        _ paths: [String], cluster: ClusterFacts = ClusterFacts()
    ) throws -> (
        objects: [LocatedObject], text: String
    ) {
        let result = ManifestLoader.load(
            paths: paths, cluster: cluster, standardInput: { FileHandle.standardInput.readDataToEndOfFile() })
        let diagnostics = result.diagnostics
        for line in result.unreadable { Output.error(line) }
        for diagnostic in diagnostics { Output.error(diagnostic.description) }
        if !result.unreadable.isEmpty { throw ExitCode(1) }
        if !diagnostics.isEmpty { throw ExitCode(2) }
        // Each file's documents, apart: a file may end without a newline or with `...`.
        return (result.objects, result.texts.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined(separator: "---\n"))
    }

    /// Applies; prints a line per object; returns the applied applications (`ministry/name`).
    static func apply(
        _ manifests: (objects: [LocatedObject], text: String), client: TansiqClient, dryRun: Bool
    ) async throws -> [String] {
        let result = try await client.apply(yaml: manifests.text, dryRun: dryRun)
        for item in result.items {
            let name = [item.ministry, item.name].compactMap { $0 }.joined(separator: "/")
            let digest = item.imageDigest.map { " (image \($0))" } ?? ""
            Output.line("\(item.kind)/\(name) \(item.action)\(digest)" + (dryRun ? " (dry run)" : ""))
        }
        for warning in result.warnings { Output.error("warning: \(warning)") }
        return manifests.objects.compactMap {
            guard case .application(let app) = $0.object else { return nil }
            return app.key
        }
    }

    /// Waits until every application has its replicas ready and no rollout in progress,
    /// showing their progress (one line rewritten on a terminal, a line per change otherwise).
    static func waitReady(_ apps: [String], client: TansiqClient, until deadline: Date) async throws {
        var progress = Progress()
        while true {
            var parts: [String] = []
            var done = true
            for key in apps {
                let pair = key.split(separator: "/", maxSplits: 1).map(String.init)
                let status = try await client.application(ministry: pair[0], name: pair[1]).status
                let ready = status?.ready ?? 0
                let desired = status?.desired ?? 0
                if ready < desired || status?.rollout == "Progressing" { done = false }
                parts.append("\(key) \(ready)/\(desired)")
            }
            let line = "waiting: " + parts.joined(separator: "  ")
            if done {
                progress.finish(line)
                return
            }
            progress.update(line)
            if Date() > deadline { throw CLIError.failed("--wait timed out: \(parts.joined(separator: "  "))") }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}
