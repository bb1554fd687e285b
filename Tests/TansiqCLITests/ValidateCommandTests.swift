import Foundation
import TansiqTestSupport
import Testing

@Suite("tansiq validate")
struct ValidateCommandTests {
    @Test("the example manifests are valid: exit 0 and one summary line per kind")
    func examplesValid() async throws {
        let result = try await run("tansiq", ["validate", "-f", "manifests/"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.first?.hasPrefix("Ministry: 5 valid (") == true)
        #expect(lines.dropFirst().first?.hasPrefix("Application: 7 valid (") == true)
        #expect(lines.last?.hasPrefix("CapacityRequest: 1 valid (health/health-2027)") == true)
        #expect(result.stderr.isEmpty)
    }

    @Test("a file with mistakes gets one precise line per mistake on stderr and exit 2")
    func mistakes() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.yaml")
        try """
        apiVersion: tansiq/v1
        kind: Application
        metadata: {name: portal, ministry: finance}
        spec:
          priority: urgent
          resources: {cpu: 1.5m, memory: 256Mi}
          run: {command: [/bin/true]}
        ---
        apiVersion: tansiq/v1
        kind: Ministry
        metadata: {name: finance}
        spec:
          code: GOV-MOF
          displayName: {en: Finance, ar: المالية}
          quota: {cpu: 2, memory: 4Gi}
        """.write(to: file, atomically: true, encoding: .utf8)
        let result = try await run("tansiq", ["validate", "-f", file.path])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderr.split(separator: "\n").map(String.init) == [
                "\(file.path):5:13: error: spec.priority: \"urgent\" is not one of critical, high, standard, batch",
                "\(file.path):6:20: error: spec.resources.cpu: \"1.5m\" is finer than one millicore",
                "\(file.path):15:10: error: spec.quota: must name all four resources (cpu, memory, storage, instances); "
                    + "missing storage, instances",
                "3 error(s) in 1 file(s)",
            ])
    }

    @Test("an unreadable path exits 1")
    func unreadablePath() async throws {
        let result = try await run("tansiq", ["validate", "-f", "no/such/dir"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no/such/dir: no such file or directory"))
    }

    @Test(
        "usage errors exit 2, not ArgumentParser's 64",
        arguments: [["validate"], ["validate", "--bogus"], ["frobnicate"]])
    func usageErrors(arguments: [String]) async throws {
        let result = try await run("tansiq", arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("Error:"))
    }

    @Test("help exits 0 and documents the exit codes")
    func help() async throws {
        let result = try await run("tansiq", ["validate", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("-f, --filename <file|dir|->"))
        #expect(result.stdout.contains("Exit status: 0 valid, 2 invalid, 1 a path unreadable."))
    }
}
