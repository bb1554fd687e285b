import ArgumentParser
import Foundation
import Yams

/// `tansiq get nodes|apps|instances|ministries|requests|tokens [-m MINISTRY | -A] [-o table|wide|json|yaml]`.
struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List objects the caller may read.",
        discussion: "Tables have aligned columns; -o json and -o yaml print the controller's objects as they are.")

    enum Resource: String, ExpressibleByArgument, CaseIterable {
        case nodes, apps, instances, ministries, requests, tokens
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, wide, json, yaml
    }

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "nodes, apps, instances, ministries, requests or tokens.") var resource: Resource
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "Only this ministry.") var ministry: String?
    @Flag(name: [.customShort("A"), .customLong("all-ministries")], help: "Every ministry the caller may read.")
    var all = false
    @Option(name: [.customShort("o"), .customLong("output")], help: "table, wide, json or yaml.") var output: Format =
        .table

    func validate() throws {
        if resource == .apps && ministry == nil && !all {
            throw ValidationError("apps belong to a ministry: pass -m MINISTRY or -A")
        }
    }

    func run() async throws {
        try await connection.withClient { client in
            let items = try await fetch(client)
            switch output {
            case .json:
                let data = try JSONSerialization.data(
                    withJSONObject: ["items": items], options: [.prettyPrinted, .sortedKeys])
                Output.line(String(decoding: data, as: UTF8.self))
            case .yaml:
                Output.line(try Yams.dump(object: ["items": items], sortKeys: true), terminator: "")
            case .table, .wide:
                Output.line(Table.render(Self.rows(resource, items, wide: output == .wide)), terminator: "")
            }
        }
    }

    func fetch(_ client: APIClient) async throws -> [[String: Any]] {
        func list(_ path: String) async throws -> [[String: Any]] {
            ((try await client.json(.GET, path)) as? [String: Any])?["items"] as? [[String: Any]] ?? []
        }
        switch resource {
        case .nodes: return try await list("/v1/nodes")
        case .ministries: return try await list("/v1/ministries").filter { ministry == nil || name($0) == ministry }
        case .requests: return try await list("/v1/capacity-requests" + (ministry.map { "?ministry=\($0)" } ?? ""))
        case .tokens: return try await list("/v1/tokens")
        case .instances: return try await list("/v1/instances" + (ministry.map { "?ministry=\($0)" } ?? ""))
        case .apps:
            var ministries = ministry.map { [$0] } ?? []
            if ministry == nil { ministries = try await list("/v1/ministries").map(name) }
            var apps: [[String: Any]] = []
            for ministry in ministries { apps += try await list("/v1/ministries/\(ministry)/applications") }
            return apps
        }
    }

    func name(_ object: [String: Any]) -> String { (object["metadata"] as? [String: Any])?["name"] as? String ?? "" }

    /// Header and rows of a resource's table.
    static func rows(_ resource: Resource, _ items: [[String: Any]], wide: Bool) -> [[String]] {
        func s(_ any: Any?) -> String {
            switch any {
            case let text as String: return text
            case let number as Int: return String(number)
            case nil, is NSNull: return "-"
            default: return "\(any!)"
            }
        }
        func yes(_ any: Any?) -> String { (any as? Bool) == true ? "yes" : "no" }
        func meta(_ item: [String: Any], _ key: String) -> String { s((item["metadata"] as? [String: Any])?[key]) }
        func res(_ item: Any?, _ key: String) -> String { s((item as? [String: Any])?[key]) }
        switch resource {
        case .nodes:
            return [
                ["NAME", "PHASE", "CORDONED", "CPU", "MEMORY", "ALLOCATED CPU", "ZONE", "ISOLATION"]
                    + (wide ? ["ENFORCEMENT"] : [])
            ]
                + items.map { n in
                    [
                        s(n["name"]), s(n["phase"]), yes(n["cordoned"]), res(n["allocatable"], "cpu"),
                        res(n["allocatable"], "memory"), res(n["allocated"], "cpu"),
                        s((n["labels"] as? [String: String])?["zone"]), s(n["isolation"]),
                    ] + (wide ? [s(n["enforcement"])] : [])
                }
        case .apps:
            return [
                ["MINISTRY", "NAME", "READY", "UP-TO-DATE", "ROLLOUT", "PRIORITY"] + (wide ? ["IMAGE", "DIGEST"] : [])
            ]
                + items.map { a in
                    let status = a["status"] as? [String: Any]
                    let spec = a["spec"] as? [String: Any]
                    return [
                        meta(a, "ministry"), meta(a, "name"), "\(s(status?["ready"]))/\(s(status?["desired"]))",
                        s(status?["updated"]), s(status?["rollout"]), s(spec?["priority"]),
                    ] + (wide ? [s(spec?["image"]), s(status?["imageDigest"])] : [])
                }
        case .instances:
            return [
                ["ID", "MINISTRY", "APPLICATION", "NODE", "PHASE", "GUARANTEED"] + (wide ? ["PORTS", "REASON"] : [])
            ]
                + items.map { i in
                    [
                        s(i["id"]), s(i["ministry"]), s(i["application"]), s(i["node"]), s(i["phase"]),
                        yes(i["guaranteed"]),
                    ]
                        + (wide
                            ? [
                                (i["ports"] as? [String: Int] ?? [:]).sorted { $0.key < $1.key }.map {
                                    "\($0.key)=\($0.value)"
                                }
                                .joined(separator: ","), s(i["reason"]),
                            ] : [])
                }
        case .ministries:
            return [["NAME", "CODE", "COHORT", "QUOTA CPU", "EFFECTIVE CPU", "ADMITTED CPU"]]
                + items.map { m in
                    let spec = m["spec"] as? [String: Any]
                    let status = m["status"] as? [String: Any]
                    return [
                        meta(m, "name"), s(spec?["code"]), s(spec?["cohort"]), res(spec?["quota"], "cpu"),
                        res(status?["effectiveQuota"], "cpu"), res(status?["admitted"], "cpu"),
                    ]
                }
        case .requests:
            return [["NAME", "MINISTRY", "PHASE", "REQUESTED BY", "DECIDED BY", "REASON"]]
                + items.map { r in
                    let status = r["status"] as? [String: Any]
                    return [
                        meta(r, "name"), meta(r, "ministry"), s(status?["phase"]), s(status?["requestedBy"]),
                        s(status?["decidedBy"]), s((r["spec"] as? [String: Any])?["reason"]),
                    ]
                }
        case .tokens:
            return [["ID", "SUBJECT", "ROLE", "MINISTRY", "EXPIRES", "REVOKED"]]
                + items.map { t in
                    [s(t["id"]), s(t["subject"]), s(t["role"]), s(t["ministry"]), s(t["expiresAt"]), s(t["revokedAt"])]
                }
        }
    }
}

/// Aligned columns, two spaces apart.
enum Table {
    static func render(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        let widths = header.indices.map { column in
            rows.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
