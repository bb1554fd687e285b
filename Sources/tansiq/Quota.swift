import ArgumentParser
import Foundation

/// `tansiq quota [MINISTRY]`: quota, admitted, guaranteed in use, borrowed, free.
struct QuotaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota", abstract: "Each ministry's cpu quota: admitted, in use, borrowed and free, with a bar.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "One ministry.") var ministry: String?

    func run() async throws {
        try await connection.withClient { client in
            let report = try await client.json(.GET, "/v1/quotas") as? [String: Any]
            var rows = [["MINISTRY", "COHORT", "EFFECTIVE", "ADMITTED", "IN USE", "BORROWED", "FREE", ""]]
            for item in report?["items"] as? [[String: Any]] ?? []
            where ministry == nil || item["ministry"] as? String == ministry {
                let cpu = { (key: String) in ((item[key] as? [String: Any])?["cpu"] as? String) ?? "0" }
                let share = Bar.share(cpu("admitted"), of: cpu("effective"))
                rows.append([
                    item["ministry"] as? String ?? "", item["cohort"] as? String ?? "-", cpu("effective"),
                    cpu("admitted"),
                    cpu("guaranteedInUse"), cpu("borrowed"), cpu("free"), Bar.render(share),
                ])
            }
            Output.line(Table.render(rows), terminator: "")
            let shortfall = (report?["overcommit"] as? [String: Any])?["shortfall"] as? [String: Any]
            if let cpu = shortfall?["cpu"] as? String, cpu != "0" {
                Output.line(
                    "quotas exceed the cluster's allocatable capacity by cpu \(cpu), memory \(shortfall?["memory"] as? String ?? "0")"
                )
            }
        }
    }
}

/// `tansiq capacity`: allocatable, allocated and free by datacentre and zone.
struct CapacityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity",
        abstract: "The cluster's capacity by datacentre and zone: allocated and free, with a bar.")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.withClient { client in
            let report = try await client.json(.GET, "/v1/capacity") as? [String: Any]
            var rows = [["DATACENTRE", "ZONE", "NODES", "CPU", "ALLOCATED", "FREE", "MEMORY", "FREE MEMORY", ""]]
            let domains =
                (report?["items"] as? [[String: Any]] ?? []) + [
                    ((report?["total"] as? [String: Any]) ?? [:]).merging(["datacentre": "all", "zone": ""]) { a, _ in a
                    }
                ]
            for domain in domains {
                let value = { (group: String, key: String) in
                    ((domain[group] as? [String: Any])?[key] as? String) ?? "0"
                }
                rows.append([
                    domain["datacentre"] as? String ?? "", domain["zone"] as? String ?? "",
                    String(domain["nodes"] as? Int ?? 0),
                    value("allocatable", "cpu"), value("allocated", "cpu"), value("free", "cpu"),
                    value("allocatable", "memory"), value("free", "memory"),
                    Bar.render(Bar.share(value("allocated", "cpu"), of: value("allocatable", "cpu"))),
                ])
            }
            Output.line(Table.render(rows), terminator: "")
        }
    }
}

/// A small bar of a share: `[#####.....]  50%`.
enum Bar {
    /// `part / whole` of cpu quantities (`500m`, `2`).
    static func share(_ part: String, of whole: String) -> Double {
        func millis(_ text: String) -> Double {
            text.hasSuffix("m") ? Double(text.dropLast()) ?? 0 : (Double(text) ?? 0) * 1000
        }
        let total = millis(whole)
        return total > 0 ? millis(part) / total : 0
    }

    static func render(_ share: Double) -> String {
        let filled = max(0, min(10, Int((share * 10).rounded())))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 10 - filled) + "] "
            + String(format: "%3.0f%%", share * 100)
    }
}
