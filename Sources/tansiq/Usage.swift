import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel

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
            let from = try from.map { try Self.time($0, "--from") }
            let to = try to.map { try Self.time($0, "--to") }
            switch output {
            case .csv: Output.line(try await client.usageCSV(from: from, to: to), terminator: "")
            case .json: Output.line(try Render.json(try await client.usage(from: from, to: to)))
            case .table:
                let report = try await client.usage(from: from, to: to)
                var rows = [
                    ["MINISTRY", "CPU CORE-H", "MEMORY GIB-H", "STORAGE GIB-H", "INSTANCE-H", "BORROWED CPU CORE-H"]
                ]
                for item in report.items + [report.total] {
                    let number = { (value: Double) in String(format: "%.2f", value) }
                    rows.append([
                        item.ministry, number(item.cpuCoreHours), number(item.memoryGiBHours),
                        number(item.storageGiBHours), number(item.instanceHours), number(item.borrowed.cpuCoreHours),
                    ])
                }
                Output.line(Table.render(rows), terminator: "")
            }
        }
    }

    static func time(_ text: String, _ flag: String) throws -> Date {
        guard let date = RFC3339.parse(text) else {
            throw ValidationError("\(flag) \(text): not an RFC 3339 time (2027-01-01T00:00:00Z)")
        }
        return date
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
        commandName: "create",
        abstract: "Issue a token (or, with --bootstrap, an agents' join token); it is printed once.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Who it is for.") var subject: String?
    @Option(
        help:
            "operator, ministry-admin, ministry-viewer, auditor or gateway (a gateway's: reads endpoints, nothing else)."
    ) var role: String?
    @Flag(help: "A bootstrap token, for agents to join with (`tansiq-agent join --token`).") var bootstrap = false
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "The ministry of a ministry role.") var ministry:
        String?
    @Option(help: "Lifetime, e.g. 30d, 12h (default 30d; 24h with --bootstrap).") var ttl: String?

    func validate() throws {
        if !bootstrap, subject == nil || role == nil {
            throw ValidationError("a token names --subject and --role (or is --bootstrap, for agents)")
        }
    }

    func run() async throws {
        try await connection.withClient { client in
            let issued =
                bootstrap
                ? try await client.issueToken(TokenRequest(ttl: ttl ?? "24h"), bootstrap: true)
                : try await client.issueToken(
                    TokenRequest(subject: subject, role: role, ministry: ministry, ttl: ttl ?? "30d"))
            Output.line(issued.token)
            Output.error(
                "token \(issued.id) for \(bootstrap ? "joining agents" : "\(subject!) (\(role!))"), "
                    + "expires \(RFC3339.format(issued.expiresAt))")
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
            _ = try await client.revokeToken(id)
            Output.line("token \(id) revoked")
        }
    }
}
