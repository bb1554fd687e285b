import Foundation
import TansiqTestSupport
import Testing

/// `tansiq-bench schedule --scenario` reads the scenario format to the letter.
@Suite("The benchmark's scenario format")
struct BenchScenarioTests {
    func scenario(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "tansiq-scenario-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("nodes without maxInstances are unlimited and ministries may be left out")
    func omittedFields() async throws {
        let nodes = (0..<300).map { #"{"name": "n\#($0)", "cpuMillis": 96000, "memoryBytes": 549755813888}"# }
        let path = try scenario(
            #"{"nodes": [\#(nodes.joined(separator: ","))], "workloads": [{"name": "w", "ministry": "m", "replicas": 500, "cpuMillis": 1000, "memoryBytes": 1073741824}, {"name": "x", "ministry": "other"}]}"#
        )
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await run("tansiq-bench", ["schedule", "--scenario", path])
        #expect(result.status == 0, "\(result.stderr)")
        let last = try #require(result.stdout.split(separator: "\n").last)
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(figures["placements"] as? Int == 501)
        #expect(figures["unschedulable"] as? Int == 0)
        // 500 one-cpu instances on 96-cpu nodes: six nodes, packed to the bound.
        #expect(figures["nodesUsed"] as? Int == 6)
        #expect(figures["lowerBound"] as? Int == 6)
    }

    @Test("a bad priority is refused with the workload's position, before anything is placed")
    func badPriority() async throws {
        let path = try scenario(
            #"{"nodes": [{"name": "n"}], "workloads": [{"name": "w", "ministry": "m"}, {"name": "v", "ministry": "m", "priority": "urgent"}]}"#
        )
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await run("tansiq-bench", ["schedule", "--scenario", path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("workloads[1].priority: \"urgent\" is not one of"), "\(result.stderr)")
    }
}
