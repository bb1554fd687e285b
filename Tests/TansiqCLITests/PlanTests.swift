import Foundation
import TansiqTestSupport
import Testing

/// `tansiq plan` against a controller with simulated nodes.
@Suite("tansiq plan", .serialized)
struct PlanTests {
    @Test("plan says where apply then places, and what stays pending and why")
    func planAgreesWithApply() async throws {
        try await LiveController.with { live in
            let nodes = (0..<2).map { live.node("node-\($0)") }
            var reporters: [Task<Void, Never>] = []
            for (index, node) in nodes.enumerated() {
                #expect(
                    try await node.join(token: live.bootstrapToken, labels: ["zone": "z\(index)"])
                        .status == 201)
                reporters.append(node.keepReporting(every: .milliseconds(300), labels: ["zone": "z\(index)"]))
            }
            let config = live.dataDir + "-cli.yaml"
            let environment = ClusterCommandTests.environment(live, token: live.operatorToken, config: config)
            let manifests = packageRoot.appendingPathComponent("manifests")
            #expect(
                try await ClusterCommandTests.tansiq(["apply", "-f", manifests.path + "/ministries.yaml"], environment)
                    .status
                    == 0)
            try await Task.sleep(for: .milliseconds(700))  // both nodes Ready
            let file = manifests.path + "/health.yaml"
            let plan = try await ClusterCommandTests.tansiq(["plan", "-f", file], environment)
            #expect(plan.status == 0, "\(plan.stderr)")
            let planned = plan.stdout.split(separator: "\n").filter { $0.hasPrefix("would place") }
                .map { String($0.split(separator: " ")[4]) }.sorted()
            #expect(planned.count == 2, "\(plan.stdout)")
            #expect(plan.stdout.contains("quota of health after: cpu 500m of 1500m guaranteed"), "\(plan.stdout)")
            #expect(try await ClusterCommandTests.tansiq(["apply", "-f", file], environment).status == 0)
            var placed: [String] = []
            for _ in 0..<50 {
                let items = try await live.call(.GET, "/v1/instances?ministry=health", token: live.operatorToken).items
                placed = items.compactMap { $0["node"] as? String }.sorted()
                if placed.count == 2 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(placed == planned, "apply placed on \(placed), plan said \(planned)")
            // Beyond its ministry's quota and what it may borrow: plan refuses as apply does, exit 1.
            let big = live.dataDir + "-big.yaml"
            try """
            apiVersion: tansiq/v1
            kind: Application
            metadata: {name: big, ministry: finance}
            spec:
              resources: {cpu: 64, memory: 1Gi}
              run: {command: [/bin/true]}
            """.write(toFile: big, atomically: true, encoding: .utf8)
            let refused = try await ClusterCommandTests.tansiq(["plan", "-f", big], environment)
            let applied = try await ClusterCommandTests.tansiq(["apply", "-f", big], environment)
            #expect(refused.status == 1 && applied.status == 1, "\(refused.stdout)\(refused.stderr)")
            #expect(refused.stderr.contains("quota") && refused.stderr == applied.stderr, "\(refused.stderr)")
            // Admitted, but no node matches: plan says it would wait, and why, with the code.
            let nowhere = live.dataDir + "-nowhere.yaml"
            try """
            apiVersion: tansiq/v1
            kind: Application
            metadata: {name: nowhere, ministry: finance}
            spec:
              resources: {cpu: 100m, memory: 64Mi}
              run: {command: [/bin/true]}
              placement: {nodeSelector: {zone: mars}}
            """.write(toFile: nowhere, atomically: true, encoding: .utf8)
            let pending = try await ClusterCommandTests.tansiq(["plan", "-f", nowhere], environment)
            #expect(pending.status == 0, "\(pending.stderr)")
            #expect(pending.stdout.contains("Application/finance/nowhere would be created"), "\(pending.stdout)")
            #expect(pending.stdout.contains("[NoMatchingNode]"), "\(pending.stdout)")
            #expect(pending.stdout.contains("quota of finance after: cpu 0 of 2 guaranteed"), "\(pending.stdout)")
            for reporter in reporters { reporter.cancel() }
            for node in nodes { await node.shutdown() }
            try? FileManager.default.removeItem(atPath: config)
        }
    }
}
