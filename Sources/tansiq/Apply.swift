import ArgumentParser
import Foundation
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
    static func facts(_ client: APIClient) async throws -> ClusterFacts {
        let answer = try await client.json(.GET, "/v1/ministries") as? [String: Any]
        let data = try JSONSerialization.data(withJSONObject: answer?["items"] ?? [])
        let ministries = (try? WireJSON.decoder().decode([Ministry].self, from: data)) ?? []
        // A ministry role sees only its own ministry: references to others are the controller's to judge.
        return ClusterFacts(
            ministries: Dictionary(ministries.map { ($0.metadata.name, $0) }, uniquingKeysWith: { a, _ in a }),
            complete: false)
    }

    /// The manifests of `paths`, checked locally against `cluster`: exit 2 with every error when invalid.
    static func load(
        _ paths: [String], cluster: ClusterFacts = ClusterFacts()
    ) throws -> (
        objects: [LocatedObject], text: String
    ) {
        let result = ManifestLoader.load(paths: paths, cluster: cluster)
        let diagnostics = result.diagnostics
        for line in result.unreadable { Output.error(line) }
        for diagnostic in diagnostics { Output.error(diagnostic.description) }
        if !result.unreadable.isEmpty { throw ExitCode(1) }
        if !diagnostics.isEmpty { throw ExitCode(2) }
        let text = result.files.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }
            .joined(separator: "\n---\n")
        return (result.objects, text)
    }

    /// Applies; prints a line per object; returns the applied applications (`ministry/name`).
    static func apply(
        _ manifests: (objects: [LocatedObject], text: String), client: APIClient, dryRun: Bool
    ) async throws -> [String] {
        let answer = try await client.json(
            .POST, "/v1/apply" + (dryRun ? "?dryRun=true" : ""), body: Data(manifests.text.utf8),
            contentType: "application/yaml")
        let json = answer as? [String: Any]
        for item in json?["items"] as? [[String: Any]] ?? [] {
            let name = [item["ministry"] as? String, item["name"] as? String].compactMap { $0 }.joined(separator: "/")
            let digest = (item["imageDigest"] as? String).map { " (image \($0))" } ?? ""
            Output.line(
                "\(item["kind"] as? String ?? "")/\(name) \(item["action"] as? String ?? "")\(digest)"
                    + (dryRun ? " (dry run)" : ""))
        }
        for warning in json?["warnings"] as? [String] ?? [] { Output.error("warning: \(warning)") }
        return manifests.objects.compactMap {
            guard case .application(let app) = $0.object else { return nil }
            return app.key
        }
    }

    /// Waits until every application has its replicas ready, printing a progress line as it moves.
    static func waitReady(_ apps: [String], client: APIClient, until deadline: Date) async throws {
        var last = ""
        while true {
            var lines: [String] = []
            var done = true
            for key in apps {
                let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
                let app = try await client.json(.GET, "/v1/ministries/\(parts[0])/applications/\(parts[1])")
                let status = (app as? [String: Any])?["status"] as? [String: Any]
                let ready = status?["ready"] as? Int ?? 0
                let desired = status?["desired"] as? Int ?? 0
                if ready < desired || status?["rollout"] as? String == "Progressing" { done = false }
                lines.append("\(key) \(ready)/\(desired)")
            }
            let line = lines.joined(separator: "  ")
            if line != last {
                Output.line("waiting: \(line)")
                last = line
            }
            if done { return }
            if Date() > deadline { throw CLIError.failed("--wait timed out: \(line)") }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}
