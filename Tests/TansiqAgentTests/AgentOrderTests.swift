import Foundation
import TansiqTestSupport
import Testing

/// scripts/agent_order.py, which turns callgrind's dumps of a running agent into the light
/// agent's link order (scripts/profile-agent.sh, scripts/build-agent.sh).
@Suite("Agent link order: the functions a running agent touches first, from callgrind's dumps")
struct AgentOrderTests {
    /// Runs the script over dumps written into a directory of its own.
    static func order(hot: [String], all: [String]) async throws -> RunResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-order-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ dumps: [String], _ prefix: String) throws -> [String] {
            try dumps.enumerated().map { index, text in
                let path = directory.appendingPathComponent("\(prefix).\(index)").path
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                return path
            }
        }
        let hotPaths = try write(hot, "hot")
        let allPaths = try write(all, "all")
        return try await runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", packageRoot.appendingPathComponent("scripts/agent_order.py").path, "tansiq-agent", "--hot"]
                + hotPaths + ["--all"] + allPaths)
    }

    static let header = "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\nevents: Ir\n\n"

    @Test(
        "hot functions by their own cost (a call's cost is the callee's), recursion levels merged, other objects left out; then the rest"
    )
    func ordering() async throws {
        let idle =
            Self.header + """
                ob=/usr/lib/x86_64-linux-gnu/libc.so.6
                fl=???
                fn=memcpy
                0 5000

                ob=/tmp/profile/tansiq-agent
                fl=???
                fn=$sStatus
                0 100
                cob=/tmp/profile/tansiq-agent
                cfn=$sEncode
                calls=3 0
                0 99999
                fn=$sEncode
                0 200
                fn=$sStatus'2
                0 50

                """
        let starting =
            Self.header + """
                ob=/tmp/profile/tansiq-agent
                fl=???
                fn=$sUnpack
                0 900000
                fn=$sEncode
                0 7
                fn=$sParseOptions
                0 40

                ob=/tmp/profile/libother.so
                fn=$sUnpackElsewhere
                0 1

                """
        let result = try await Self.order(hot: [idle], all: [idle, starting])
        #expect(result.status == 0, "\(result.stderr)")
        // $sStatus: 100 + 50 of its own (not the 99,999 of its call), after $sEncode's 200.
        #expect(result.stdout.split(separator: "\n") == ["$sEncode", "$sStatus", "$sUnpack", "$sParseOptions"])
        #expect(result.stderr.contains("2 functions hot, 4 in all"))
    }

    @Test("without a dump to read, the script fails, names the dump and why, and writes no order")
    func missingDump() async throws {
        let result = try await runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", packageRoot.appendingPathComponent("scripts/agent_order.py").path, "tansiq-agent",
                "--hot", "/nonexistent/callgrind.1", "--all", "/nonexistent/callgrind.1",
            ])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                == "agent_order: cannot read the dump /nonexistent/callgrind.1: No such file or directory")
    }
}
