import ArgumentParser
import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel

/// `tansiq delete -f FILE|DIR` or `tansiq delete app NAME -m MINISTRY`.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete the manifests' objects, or one application.",
        discussion: "Applications go first, then capacity requests, then ministries. Exit 1 at the first refusal.")

    @OptionGroup var connection: ConnectionOptions
    @Option(
        name: [.customShort("f"), .customLong("filename")],
        help: ArgumentHelp("Manifests whose objects to delete; repeatable.", valueName: "file|dir"))
    var filename: [String] = []
    @Argument(help: "`app` and its name, without -f.") var target: [String] = []
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "The application's ministry.") var ministry:
        String?

    func validate() throws {
        if filename.isEmpty {
            guard target.count == 2, target[0] == "app" || target[0] == "application", ministry != nil else {
                throw ValidationError("expected -f FILE|DIR, or `app NAME -m MINISTRY`")
            }
        }
    }

    func run() async throws {
        try await connection.withClient { client in
            var targets: [(label: String, delete: () async throws -> ChangeResult)] = []
            if filename.isEmpty {
                let (ministry, name) = (ministry!, target[1])
                targets = [
                    (
                        "Application/\(ministry)/\(name)",
                        { try await client.deleteApplication(ministry: ministry, name: name) }
                    )
                ]
            } else {
                let objects = try Apply.load(filename, cluster: try await Apply.facts(client)).objects
                let rank: (ManifestObject) -> Int = {
                    switch $0 {
                    case .application: 0
                    case .capacityRequest: 1
                    case .ministry: 2
                    }
                }
                for item in objects.sorted(by: { rank($0.object) < rank($1.object) }) {
                    let meta = item.object.metadata
                    switch item.object {
                    case .application:
                        targets.append(
                            (
                                item.object.identity,
                                { try await client.deleteApplication(ministry: meta.ministry ?? "", name: meta.name) }
                            ))
                    case .capacityRequest:
                        targets.append((item.object.identity, { try await client.deleteCapacityRequest(meta.name) }))
                    case .ministry:
                        targets.append((item.object.identity, { try await client.deleteMinistry(meta.name) }))
                    }
                }
            }
            for (label, delete) in targets {
                if try await client.unlessNotFound({ try await delete() }) == nil {
                    Output.line("\(label) not found")
                } else {
                    Output.line("\(label) deleted")
                }
            }
        }
    }
}
