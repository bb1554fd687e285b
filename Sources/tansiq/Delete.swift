import ArgumentParser
import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel

/// `tansiq delete -f FILE|DIR`, `tansiq delete app NAME -m MINISTRY` or
/// `tansiq delete secret NAME -m MINISTRY [--force]`.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete the manifests' objects, or one application or secret.",
        discussion: """
            Applications go first, then secrets, then capacity requests, then ministries. Exit 1 at the first
            refusal. A secret that applications use is refused (409) unless --force.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(
        name: [.customShort("f"), .customLong("filename")],
        help: ArgumentHelp("Manifests whose objects to delete; repeatable.", valueName: "file|dir"))
    var filename: [String] = []
    @Argument(help: "`app` or `secret` and its name, without -f.") var target: [String] = []
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "The application's or secret's ministry.")
    var ministry: String?
    @Flag(help: "Delete a secret even while applications use it (they stop receiving it).") var force = false

    func validate() throws {
        if filename.isEmpty {
            guard target.count == 2, ["app", "application", "secret"].contains(target[0]), ministry != nil else {
                throw ValidationError("expected -f FILE|DIR, `app NAME -m MINISTRY` or `secret NAME -m MINISTRY`")
            }
        }
    }

    func run() async throws {
        try await connection.withClient { client in
            var targets: [(label: String, delete: () async throws -> ChangeResult)] = []
            if filename.isEmpty, target[0] == "secret" {
                let (ministry, name, force) = (ministry!, target[1], force)
                targets = [
                    (
                        "Secret/\(ministry)/\(name)",
                        { try await client.deleteSecret(ministry: ministry, name: name, force: force) }
                    )
                ]
            } else if filename.isEmpty {
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
                    case .secret: 1
                    case .capacityRequest: 2
                    case .ministry: 3
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
                    case .secret:
                        let force = force
                        targets.append(
                            (
                                item.object.identity,
                                {
                                    try await client.deleteSecret(
                                        ministry: meta.ministry ?? "", name: meta.name, force: force)
                                }
                            ))
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
