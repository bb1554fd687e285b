import ArgumentParser
import Foundation

/// `tansiq usage [--from TIME --to TIME] [-o table|json|csv]`: showback per ministry.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage", abstract: "What each ministry used in a period (default: the last 24 hours).")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Start (RFC 3339).") var from: String?
    @Option(help: "End (RFC 3339).") var to: String?
    @Option(name: [.customShort("o"), .customLong("output")], help: "table, json or csv.") var output: Format = .table

    func run() async throws {
        try await connection.withClient { client in
            var query = [from.map { "from=\($0)" }, to.map { "to=\($0)" }].compactMap { $0 }
            if output == .csv { query.append("format=csv") }
            let path = "/v1/usage" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            let (status, body) = try await client.send(.GET, path)
            guard status == 200 else { throw CLIError.refused(status: status, body: body) }
            switch output {
            case .csv, .json: Output.line(String(decoding: body, as: UTF8.self), terminator: "")
            case .table:
                let report = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
                var rows = [
                    ["MINISTRY", "CPU CORE-H", "MEMORY GIB-H", "STORAGE GIB-H", "INSTANCE-H", "BORROWED CPU CORE-H"]
                ]
                for item in (report?["items"] as? [[String: Any]] ?? []) + [report?["total"] as? [String: Any] ?? [:]] {
                    let number = { (value: Any?) in
                        String(format: "%.2f", (value as? Double) ?? Double(value as? Int ?? 0))
                    }
                    rows.append([
                        item["ministry"] as? String ?? "", number(item["cpuCoreHours"]), number(item["memoryGiBHours"]),
                        number(item["storageGiBHours"]), number(item["instanceHours"]),
                        number((item["borrowed"] as? [String: Any])?["cpuCoreHours"]),
                    ])
                }
                Output.line(Table.render(rows), terminator: "")
            }
        }
    }
}

/// `tansiq token create|revoke`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue or revoke bearer tokens (operators).",
        subcommands: [TokenCreate.self, TokenRevoke.self])
}

/// `tansiq token create --subject WHO --role ROLE [-m MINISTRY] [--ttl 30d]`.
struct TokenCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Issue a token; it is printed once.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Who it is for.") var subject: String
    @Option(help: "operator, ministry-admin, ministry-viewer or auditor.") var role: String
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "The ministry of a ministry role.") var ministry:
        String?
    @Option(help: "Lifetime, e.g. 30d, 12h.") var ttl: String = "30d"

    func run() async throws {
        try await connection.withClient { client in
            var body: [String: Any] = ["subject": subject, "role": role, "ttl": ttl]
            body["ministry"] = ministry
            let issued =
                try await client.json(.POST, "/v1/tokens", body: try JSONSerialization.data(withJSONObject: body))
                as? [String: Any]
            Output.line(issued?["token"] as? String ?? "")
            Output.error(
                "token \(issued?["id"] as? String ?? "") for \(subject) (\(role)), expires \(issued?["expiresAt"] as? String ?? "")"
            )
        }
    }
}

/// `tansiq token revoke ID`.
struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token by id.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The token's id (as `tansiq get tokens` lists it).") var id: String

    func run() async throws {
        try await connection.withClient { client in
            _ = try await client.json(.DELETE, "/v1/tokens/\(id)")
            Output.line("token \(id) revoked")
        }
    }
}
