import ArgumentParser
import Foundation
import Yams

/// `tansiq describe node NAME | app NAME -m MINISTRY | ministry NAME`.
struct Describe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An object's spec and status, its instances (with why any is pending), and its recent events.")

    enum Kind: String, ExpressibleByArgument, CaseIterable { case node, app, ministry }

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "node, app or ministry.") var kind: Kind
    @Argument(help: "Its name.") var name: String
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "The application's ministry.") var ministry:
        String?

    func validate() throws {
        if kind == .app && ministry == nil { throw ValidationError("an app belongs to a ministry: pass -m MINISTRY") }
    }

    func run() async throws {
        try await connection.withClient { client in
            let object: Any
            var instances: [[String: Any]] = []
            var events: [[String: Any]] = []
            func list(_ path: String) async throws -> [[String: Any]] {
                ((try await client.json(.GET, path)) as? [String: Any])?["items"] as? [[String: Any]] ?? []
            }
            switch kind {
            case .node:
                object = try await client.json(.GET, "/v1/nodes/\(name)")
                instances = try await list("/v1/instances?node=\(name)")
                events = try await list("/v1/events?kind=Node&name=\(name)")
            case .app:
                object = try await client.json(.GET, "/v1/ministries/\(ministry!)/applications/\(name)")
                instances = try await list("/v1/instances?ministry=\(ministry!)&application=\(name)")
                events = try await list("/v1/events?kind=Application&name=\(name)&ministry=\(ministry!)")
                for instance in instances {
                    events += try await list("/v1/events?kind=Instance&name=\(instance["id"] as? String ?? "")")
                }
            case .ministry:
                object = try await client.json(.GET, "/v1/ministries/\(name)")
                events = try await list("/v1/events?kind=Ministry&name=\(name)")
            }
            Output.line(try Yams.dump(object: object, sortKeys: true), terminator: "")
            if !instances.isEmpty {
                Output.line("\ninstances:")
                Output.line(Table.render(Get.rows(.instances, instances, wide: true)), terminator: "")
            }
            for pending in instances where pending["phase"] as? String == "Pending" {
                Output.line(
                    "\(pending["id"] as? String ?? "") is pending: \(pending["reason"] as? String ?? "waiting to be scheduled")"
                )
            }
            Output.line("\nevents:")
            if events.isEmpty { Output.line("  none") }
            for event in events.sorted(by: { ($0["seq"] as? Int ?? 0) < ($1["seq"] as? Int ?? 0) }) {
                Output.line(
                    "  \(event["time"] as? String ?? "")  \(event["reason"] as? String ?? "")  "
                        + "\(event["name"] as? String ?? ""): \(event["message"] as? String ?? "")")
            }
        }
    }
}
