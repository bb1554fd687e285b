import Foundation
import TansiqModel
import TansiqTestSupport

/// What the API benchmarks share: their ministry, their applications, and a fleet of nodes.
enum BenchWorkload {
    /// A ministry with a quota no benchmark reaches.
    static let ministry = """
        apiVersion: tansiq/v1
        kind: Ministry
        metadata: {name: bench}
        spec:
          code: GOV-BENCH
          displayName: {en: Benchmarks, ar: قياس}
          quota: {cpu: 100000, memory: 100Ti, storage: 100Ti, instances: 10000000}
        """

    /// An application of `replicas` instances of `resources` (100m and 64Mi unless said), with `env`
    /// in their environment.
    static func application(
        _ name: String, replicas: Int, env: [String: String] = [:], resources: String = "{cpu: 100m, memory: 64Mi}"
    ) -> String {
        let environment =
            env.isEmpty
            ? ""
            : ", env: {"
                + env.sorted { $0.key < $1.key }.map { "\($0.key): \"\($0.value)\"" }
                .joined(separator: ", ") + "}"
        return
            """
            apiVersion: tansiq/v1
            kind: Application
            metadata: {name: \(name), ministry: bench}
            spec:
              replicas: \(replicas)
              resources: \(resources)
              run: {command: [/bin/sleep, "3600"]\(environment)}
              ports: [{name: http, port: 0}]
            """
    }

    /// The zone of fleet node `bench-N`: four zones, round robin.
    static func zone(of node: SimulatedNode) -> String { "z\(Int(node.name.split(separator: "-").last!)! % 4)" }

    /// `count` nodes `bench-0`..., joined over mTLS 32 at a time, of `capacity` (the simulated
    /// node's default unless given).
    static func fleet(
        _ live: LiveController, count: Int, capacity: Resources? = nil
    ) async throws
        -> [SimulatedNode]
    {
        let fleet = (0..<count).map { live.node("bench-\($0)") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, node) in fleet.enumerated() {
                if index >= 32 { try await group.next() }
                group.addTask {
                    let labels = ["zone": zone(of: node)]
                    let reply =
                        if let capacity {
                            try await node.join(token: live.bootstrapToken, labels: labels, resources: capacity)
                        } else {
                            try await node.join(token: live.bootstrapToken, labels: labels)
                        }
                    guard reply.status == 201 else { throw LiveError.failed("join: \(reply.status) \(reply.body)") }
                }
            }
            try await group.waitForAll()
        }
        return fleet
    }
}
