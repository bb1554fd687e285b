import Foundation
import TansiqTestSupport
import Testing

/// `--help` texts against checked-in golden files (`UPDATE_GOLDEN=1 swift test` rewrites them).
@Suite("Help texts")
struct HelpGoldenTests {
    static let golden = packageRoot.appendingPathComponent("Tests/TansiqCLITests/Golden")

    @Test(
        "every command's --help matches its golden file",
        arguments: [
            ("tansiq", ["--help"], "tansiq.txt"), ("tansiq", ["apply", "--help"], "tansiq-apply.txt"),
            ("tansiq", ["get", "--help"], "tansiq-get.txt"), ("tansiq", ["dev", "up", "--help"], "tansiq-dev-up.txt"),
            ("tansiq-controller", ["run", "--help"], "tansiq-controller-run.txt"),
            ("tansiq-agent", ["join", "--help"], "tansiq-agent-join.txt"),
            ("tansiq-agent", ["run", "--help"], "tansiq-agent-run.txt"),
            ("tansiq-gateway", ["run", "--help"], "tansiq-gateway-run.txt"),
            ("tansiq", ["logs", "--help"], "tansiq-logs.txt"),
        ])
    func help(binary: String, arguments: [String], file: String) async throws {
        let result = try await run(binary, arguments)
        #expect(result.status == 0)
        let path = Self.golden.appendingPathComponent(file)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try result.stdout.write(to: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: path, encoding: .utf8)
        #expect(result.stdout == expected, "\(binary) \(arguments.joined(separator: " ")) differs from \(file)")
    }
}
