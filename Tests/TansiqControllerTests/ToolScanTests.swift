import Foundation
import TansiqTestSupport
import Testing

@testable import TansiqController

/// The controller as the tools others use see it: testssl.sh for its TLS, promtool for its metrics.
@Suite("TLS and metrics checked with their own tools", .serialized)
struct ToolScanTests {
    /// testssl.sh's findings on `url`, by id.
    static func scan(_ url: String, report: String) async throws -> [String: String] {
        let scan = try await runProcess(
            URL(fileURLWithPath: HostFacts.testssl!),
            [
                "--quiet", "--color", "0", "--warnings", "off", "--openssl-timeout", "5", "--jsonfile", report,
                "-p", "-s", "-R", url,
            ], timeout: 240)
        defer { try? FileManager.default.removeItem(atPath: report) }
        let data = try #require(FileManager.default.contents(atPath: report), "no report: \(scan.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        var finding: [String: String] = [:]
        for entry in entries {
            if let id = entry["id"] as? String { finding[id] = entry["finding"] as? String ?? "" }
        }
        return finding
    }

    /// Only TLS 1.2 and 1.3, no weak suite, no client renegotiation.
    static func expectStrong(_ finding: [String: String], _ what: String, clientCertificates: Bool = false) {
        for old in ["SSLv2", "SSLv3", "TLS1", "TLS1_1"] {
            #expect(finding[old] == "not offered", "\(what) \(old): \(finding[old] ?? "-")")
        }
        #expect(finding["TLS1_2"] == "offered", "\(what) TLS 1.2: \(finding["TLS1_2"] ?? "-")")
        #expect(finding["TLS1_3"]?.hasPrefix("offered") == true, "\(what) TLS 1.3: \(finding["TLS1_3"] ?? "-")")
        for weak in ["NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"] {
            #expect(
                finding["cipherlist_\(weak)"] == "not offered",
                "\(what) \(weak): \(finding["cipherlist_\(weak)"] ?? "-")")
        }
        #expect(finding["cipherlist_STRONG"] == "offered", "\(what): \(finding["cipherlist_STRONG"] ?? "-")")
        // A port that asks for client certificates keeps testssl.sh from trying a renegotiation when it
        // notices (it does not always, under TLS 1.3); BoringSSL servers never renegotiate anyway.
        let renegotiation = finding["secure_client_renego"] ?? "-"
        #expect(
            renegotiation == "not vulnerable"
                || (clientCertificates && renegotiation.hasPrefix("client x509-based authentication prevents")),
            "\(what): \(renegotiation)")
    }

    @Test(
        "testssl.sh: only TLS 1.2 and 1.3, no NULL, export, low, 3DES or CBC suites, no client renegotiation",
        .enabled(if: HostFacts.testssl != nil, "testssl.sh is needed (Debian package testssl.sh)"))
    func tlsScan() async throws {
        try await LiveController.with { live in
            Self.expectStrong(try await Self.scan(live.baseURL, report: live.dataDir + "-testssl.json"), "controller")
        }
    }

    @Test(
        "testssl.sh on the gateway's HTTPS and on an agent's log port: the same TLS as the controller's; the log port asks for a client certificate",
        .enabled(if: HostFacts.testssl != nil && HostFacts.nginx != nil, "testssl.sh and nginx are needed"))
    func tlsScanOfGatewayAndLogs() async throws {
        try await LiveController.with { live in
            // The gateway's certificate, issued by the cluster CA for the test (any CA would do).
            let ca = try DataDirectory(path: live.dataDir).certificateAuthority()
            let key = P256Key()
            let certificate = try ca.issue(
                publicKey: key.publicKey, commonName: "portal.gov.example", dnsNames: ["portal.gov.example"],
                server: true, now: Date(), days: 1)
            let files = live.dataDir + "-gateway-tls"
            try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            try (try certificate.serializeAsPEM().pemString + "\n").write(
                toFile: files + "/tls.crt", atomically: true, encoding: .utf8)
            try key.pem.write(toFile: files + "/tls.key", atomically: true, encoding: .utf8)
            let gateway = try await LiveGateway(
                live, name: "scan", httpPort: 22590,
                extra: ["--https-port", "22591", "--tls-cert", files + "/tls.crt", "--tls-key", files + "/tls.key"])
            let agent = try await LiveAgent(live, name: "scan-a", zone: "z1", ports: 22550...22559)
            do {
                var logPort: Int?
                _ = try await eventually(.seconds(20)) {
                    let node = try await live.call(.GET, "/v1/nodes/scan-a", token: live.operatorToken)
                    logPort = (node.json as? [String: Any])?["logPort"] as? Int
                    return logPort != nil
                }
                #expect(try await eventually(.seconds(20)) { gateway.configuration.contains("listen 22591 ssl") })
                let port = logPort ?? 0
                // One scan after the other: each starts hundreds of openssl processes, and the rest of
                // the suite runs beside them.
                let onGateway = try await Self.scan("https://127.0.0.1:22591", report: files + "/gateway.json")
                let onLogs = try await Self.scan("https://127.0.0.1:\(port)", report: files + "/logs.json")
                Self.expectStrong(onGateway, "gateway")
                Self.expectStrong(onLogs, "log port", clientCertificates: true)
                // testssl.sh 3.0 does not see a certificate request sent under TLS 1.3's encryption, so
                // ask openssl directly: under TLS 1.2 the server asks for a certificate and, given none,
                // ends the handshake.
                let probe = try await runProcess(
                    URL(fileURLWithPath: "/usr/bin/openssl"),
                    ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_2", "-msg"], timeout: 20, stdin: "")
                let transcript = probe.stdout + probe.stderr
                #expect(transcript.contains("CertificateRequest"), "\(transcript.suffix(2000))")
                #expect(transcript.contains("fatal"), "no fatal alert ends the handshake: \(transcript.suffix(2000))")
            } catch {
                Issue.record("\(error)")
            }
            await gateway.shutdown()
            await agent.shutdown()
            try? FileManager.default.removeItem(atPath: files)
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
