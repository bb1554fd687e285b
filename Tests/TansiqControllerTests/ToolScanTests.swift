import Foundation
import TansiqTestSupport
import Testing

/// The controller as the tools others use see it: testssl.sh for its TLS, promtool for its metrics.
@Suite("TLS and metrics checked with their own tools", .serialized)
struct ToolScanTests {
    @Test(
        "testssl.sh: only TLS 1.2 and 1.3, no NULL, export, low, 3DES or CBC suites, no client renegotiation",
        .enabled(if: HostFacts.testssl != nil, "testssl.sh is needed (Debian package testssl.sh)"))
    func tlsScan() async throws {
        try await LiveController.with { live in
            let report = live.dataDir + "-testssl.json"
            let scan = try await runProcess(
                URL(fileURLWithPath: HostFacts.testssl!),
                [
                    "--quiet", "--color", "0", "--warnings", "off", "--openssl-timeout", "5", "--jsonfile", report,
                    "-p", "-s", "-R", live.baseURL,
                ], timeout: 180)
            defer { try? FileManager.default.removeItem(atPath: report) }
            let data = try #require(FileManager.default.contents(atPath: report), "no report: \(scan.stderr)")
            let entries = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
            var finding: [String: String] = [:]
            for entry in entries {
                if let id = entry["id"] as? String { finding[id] = entry["finding"] as? String ?? "" }
            }
            for old in ["SSLv2", "SSLv3", "TLS1", "TLS1_1"] {
                #expect(finding[old] == "not offered", "\(old): \(finding[old] ?? "-")")
            }
            #expect(finding["TLS1_2"] == "offered")
            #expect(finding["TLS1_3"]?.hasPrefix("offered") == true, "\(finding["TLS1_3"] ?? "-")")
            for weak in ["NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"] {
                #expect(
                    finding["cipherlist_\(weak)"] == "not offered", "\(weak): \(finding["cipherlist_\(weak)"] ?? "-")")
            }
            #expect(finding["cipherlist_STRONG"] == "offered")
            #expect(finding["secure_client_renego"] == "not vulnerable", "\(finding["secure_client_renego"] ?? "-")")
        }
    }

    @Test(
        "promtool check metrics accepts /metrics after nodes, applies and refusals",
        .enabled(if: HostFacts.promtool != nil, "promtool is needed (Debian package prometheus)"))
    func metricsLint() async throws {
        try await LiveController.with { live in
            try await live.withNodes(
                ["node-a"], capacity: ["cpu": "2", "memory": "8Gi", "storage": "100Gi", "instances": 50]
            ) { _ in
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                #expect(try await LiveControllerTests.apply(live, Harness.app("health", "portal")).status == 200)
                #expect(try await live.call(.GET, "/v1/ministries", token: "tq_bad.token").status == 401)
                let metrics = try await live.call(.GET, "/metrics", token: live.operatorToken)
                #expect(metrics.status == 200)
                let check = try await runProcess(
                    URL(fileURLWithPath: HostFacts.promtool!), ["check", "metrics"], stdin: metrics.body)
                #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
                #expect(check.stdout.isEmpty && check.stderr.isEmpty, "\(check.stdout)\(check.stderr)")
            }
        }
    }
}
