import ArgumentParser
import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel

/// `tansiq plan -f FILE|DIR`: what applying would do now — the controller's `POST /v1/plan`.
struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "What-if: where the manifests' applications would run, what would stay pending and why, what would be preempted.",
        discussion: """
            Checks the manifests locally, then asks the controller (POST /v1/plan), which runs apply's admission,
            the first round of the rollouts they start and one placement round against the live state, and
            stores nothing. Prints what apply would say of each object, each instance placed (guaranteed or
            borrowed), each left pending with its reason code, each preemption (another ministry's instance
            unnamed), and each affected ministry's quota use and fair share after, in all four resources.
            What apply would refuse, plan refuses the same way (exit 1, apply's numbers).
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var files: ManifestFiles

    func run() async throws {
        try await connection.withClient { client in
            let manifests = try Apply.load(files.filename, cluster: try await Apply.facts(client))
            let result = try await client.plan(yaml: manifests.text)
            for line in Self.report(result) { Output.line(line) }
            for warning in result.warnings { Output.error("warning: \(warning)") }
        }
    }

    /// Lines for people: apply's items, placements, waits, preemptions, then each ministry's quota after.
    static func report(_ plan: PlanResult) -> [String] {
        var lines: [String] = []
        for item in plan.items {
            let name = [item.ministry, item.name].compactMap { $0 }.joined(separator: "/")
            lines.append("\(item.kind)/\(name) would be \(item.action)")
        }
        for placement in plan.placements {
            lines.append(
                "would place \(placement.instance) on \(placement.node) "
                    + "(\(placement.guaranteed ? "guaranteed" : "borrowed"))")
        }
        for pending in plan.pending {
            lines.append("would stay pending: \(pending.instance) [\(pending.reasonCode.rawValue)]: \(pending.reason)")
        }
        for preemption in plan.preemptions {
            lines.append(
                "would preempt \(preemption.instance ?? "an instance of another ministry"): \(preemption.reason)")
        }
        for quota in plan.quotas {
            func use(_ name: String, _ keyPath: KeyPath<Resources, Int64>, _ format: (Int64) -> String) -> String {
                "\(name) \(format(quota.guaranteed[keyPath: keyPath])) of \(format(quota.effective[keyPath: keyPath])) "
                    + "guaranteed, \(format(quota.borrowed[keyPath: keyPath])) borrowed"
            }
            lines.append(
                "quota of \(quota.ministry) after: "
                    + [
                        use("cpu", \.cpuMillis, Cell.cpu), use("memory", \.memoryBytes, Cell.bytes),
                        use("storage", \.storageBytes, Cell.bytes),
                        use("instances", \.instances, String.init),
                    ].joined(separator: "; ")
                    + "; fair share \(Cell.share(quota.fairShare)) (weight \(Cell.weight(quota.weight)))")
        }
        return lines
    }
}
