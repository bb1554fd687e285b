import ArgumentParser
import Foundation
import TansiqAPI

/// `tansiq quota [MINISTRY]`: quota, admitted, guaranteed in use, borrowed, free.
struct QuotaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota",
        abstract:
            "Each ministry's cpu quota: admitted, in use, borrowed, free, its fair share of the cohort's pool and weight.",
        discussion: """
            FAIR SHARE is the ministry's weighted dominant share of what its cohort lends (DESIGN rule 10), per
            mille: borrowed over the pool, in the resource where that is largest, divided by WEIGHT. Idle capacity
            goes to the lowest share first; "over quota" marks a ministry kept above its quota by critical instances.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "One ministry.") var ministry: String?

    func run() async throws {
        try await connection.withClient { client in
            let report = try await client.quotas()
            var rows = [
                [
                    "MINISTRY", "COHORT", "EFFECTIVE", "ADMITTED", "IN USE", "BORROWED", "FREE", "FAIR SHARE", "WEIGHT",
                    "",
                ]
            ]
            for item in report.items where ministry == nil || item.ministry == ministry {
                rows.append([
                    item.ministry, item.cohort ?? "-", Cell.cpu(item.effective.cpuMillis),
                    Cell.cpu(item.admitted.cpuMillis), Cell.cpu(item.guaranteedInUse.cpuMillis),
                    Cell.cpu(item.borrowed.cpuMillis), Cell.cpu(item.free.cpuMillis),
                    item.cohort == nil ? "-" : Cell.share(item.fairShare), Cell.weight(item.weight),
                    Bar.render(Bar.share(item.admitted.cpuMillis, of: item.effective.cpuMillis))
                        + (item.overQuota ? "  over quota" : ""),
                ])
            }
            Output.line(Table.render(rows), terminator: "")
            let shortfall = report.overcommit.shortfall
            if shortfall.cpuMillis > 0 || shortfall.memoryBytes > 0 {
                Output.line(
                    "quotas exceed the cluster's allocatable capacity by cpu \(Cell.cpu(shortfall.cpuMillis)), "
                        + "memory \(Cell.bytes(shortfall.memoryBytes))")
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
            let report = try await client.capacity()
            var rows = [["DATACENTRE", "ZONE", "NODES", "CPU", "ALLOCATED", "FREE", "MEMORY", "FREE MEMORY", ""]]
            let total = CapacityReport.Domain(
                datacentre: "all", zone: "", nodes: report.total.nodes, allocatable: report.total.allocatable,
                allocated: report.total.allocated, free: report.total.free)
            for domain in report.items + [total] {
                rows.append([
                    domain.datacentre, domain.zone, String(domain.nodes), Cell.cpu(domain.allocatable.cpuMillis),
                    Cell.cpu(domain.allocated.cpuMillis), Cell.cpu(domain.free.cpuMillis),
                    Cell.bytes(domain.allocatable.memoryBytes), Cell.bytes(domain.free.memoryBytes),
                    Bar.render(Bar.share(domain.allocated.cpuMillis, of: domain.allocatable.cpuMillis)),
                ])
            }
            Output.line(Table.render(rows), terminator: "")
        }
    }
}

/// A small bar of a share: `[#####.....]  50%`.
enum Bar {
    /// `part / whole`, 0 for an empty whole.
    static func share(_ part: Int64, of whole: Int64) -> Double { whole > 0 ? Double(part) / Double(whole) : 0 }

    static func render(_ share: Double) -> String {
        let filled = max(0, min(10, Int((share * 10).rounded())))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 10 - filled) + "] "
            + String(format: "%3.0f%%", share * 100)
    }
}
