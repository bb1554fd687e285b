import ArgumentParser
import Foundation
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
            var paths: [(path: String, label: String)] = []
            if filename.isEmpty {
                paths = [
                    ("/v1/ministries/\(ministry!)/applications/\(target[1])", "Application/\(ministry!)/\(target[1])")
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
                        paths.append(
                            ("/v1/ministries/\(meta.ministry ?? "")/applications/\(meta.name)", item.object.identity))
                    case .capacityRequest: paths.append(("/v1/capacity-requests/\(meta.name)", item.object.identity))
                    case .ministry: paths.append(("/v1/ministries/\(meta.name)", item.object.identity))
                    }
                }
            }
            for (path, label) in paths {
                let (status, body) = try await client.send(.DELETE, path)
                if status == 404 {
                    Output.line("\(label) not found")
                    continue
                }
                guard (200..<300).contains(status) else { throw CLIError.refused(status: status, body: body) }
                Output.line("\(label) deleted")
            }
        }
    }
}
