import Foundation
import TansiqAPI
import TansiqModel
import TansiqTestSupport
import Testing

@testable import TansiqAgent

/// The agent's connection to a real controller, over mutual TLS: a certificate renewal swaps the
/// client while long polls and status reports are under way (run it under
/// `swift test --sanitize=thread` to check there is no data race).
@Suite("The agent's connection")
struct ConnectionTests {
    @Test("renewals swap the client while calls are in flight: every call completes, none races")
    func reloadUnderLoad() async throws {
        try await LiveController.with { live in
            let directory = AgentDirectory(path: live.dataDir + "-agent-conn")
            defer { try? FileManager.default.removeItem(atPath: directory.path) }
            try await AgentJoin.run(
                .init(
                    servers: [live.baseURL], token: live.bootstrapToken, caHash: try live.caHash(), name: "conn",
                    labels: ["zone": "z1"],
                    capacity: ResourceLimits(cpuMillis: 1000, memoryBytes: 1 << 30, storageBytes: 0, instances: 5),
                    reserve: ResourceLimits(), portRange: 40000...40010),
                directory: directory)
            let connection = try ControllerConnection(servers: [live.baseURL], name: "conn", directory: directory)
            let capacity = Resources(cpuMillis: 1000, memoryBytes: 1 << 30, storageBytes: 0, instances: 5)
            let status = AgentProtocol.Status(
                capacity: capacity, allocatable: capacity, labels: ["zone": "z1"], enforcement: .none,
                isolation: Isolation.none, instances: [])
            let completed = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var calls = 0
                        for _ in 0..<10 {
                            _ = try await connection.assignments(after: 0, wait: 0)
                            try await connection.report(status, timeout: 15)
                            calls += 2
                        }
                        return calls
                    }
                }
                group.addTask {
                    for _ in 0..<10 {
                        try connection.reload(directory)
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    return 0
                }
                return try await group.reduce(0, +)
            }
            #expect(completed == 160)
            await connection.shutdown()
        }
    }
}
