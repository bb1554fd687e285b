import ArgumentParser
import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel

/// `tansiq diff -f FILE|DIR`: what applying would change, as a unified diff per object.
struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what `apply` would change: the controller checks it (a dry run), and each object's diff.",
        discussion: "Exit status as kubectl's: 0 nothing would change, 1 something would, 2 or more an error.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var files: ManifestFiles

    func run() async throws {
        var changed = false
        do {
            try await connection.withClient { client in
                let manifests = try Apply.load(files.filename, cluster: try await Apply.facts(client))
                // The controller's dry run: refusals (quota, roles, references) show as errors.
                _ = try await client.apply(yaml: manifests.text, dryRun: true)
                for item in manifests.objects {
                    let meta = item.object.metadata
                    let current: String
                    let desired: String
                    switch item.object {
                    case .ministry(let m):
                        current =
                            try await client.unlessNotFound { try await client.ministry(meta.name) }
                            .map { try Render.yaml($0.spec) } ?? ""
                        desired = try Render.yaml(m.spec)
                    case .application(let a):
                        current =
                            try await client.unlessNotFound {
                                try await client.application(ministry: meta.ministry ?? "", name: meta.name)
                            }.map { try Render.yaml($0.spec) } ?? ""
                        desired = try Render.yaml(a.spec)
                    case .capacityRequest(let r):
                        current =
                            try await client.unlessNotFound { try await client.capacityRequest(meta.name) }
                            .map { try Render.yaml($0.spec) } ?? ""
                        desired = try Render.yaml(r.spec)
                    case .secret(let secret):
                        // Values are never read back: a secret differs when it does not exist or
                        // its keys differ (the dry run above tells whether its values would change).
                        let stored = try await client.secrets(ministry: meta.ministry ?? "").items
                            .first { $0.metadata.name == meta.name }
                        current = stored.map { "keys: \($0.keys.joined(separator: ", "))\n" } ?? ""
                        desired =
                            secret.spec.data.map { "keys: \($0.keys.sorted().joined(separator: ", "))\n" }
                            ?? current
                    }
                    guard current != desired else { continue }
                    changed = true
                    let label = item.object.identity
                    Output.line("--- \(label) (cluster)\n+++ \(label) (manifest)")
                    for line in LineDiff.lines(from: current, to: desired) { Output.line(line) }
                }
            }
        } catch let code as ExitCode {
            throw ExitCode(code.rawValue == 1 ? 2 : code.rawValue)  // errors are 2 or more, as kubectl's
        }
        if changed { throw ExitCode(1) }
    }
}

/// A line diff (longest common subsequence): unchanged lines with ` `, removed `-`, added `+`.
enum LineDiff {
    static func lines(from old: String, to new: String) -> [String] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        var lcs = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var result: [String] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                result.append(" " + a[i])
                i += 1
                j += 1
            } else if j < b.count, i == a.count || lcs[i][j + 1] >= lcs[i + 1][j] {
                result.append("+" + b[j])
                j += 1
            } else {
                result.append("-" + a[i])
                i += 1
            }
        }
        return result
    }
}
