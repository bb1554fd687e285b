import Foundation
import TansiqTestSupport
import Testing

/// The dashboard in a real headless Chromium (Selenium, Debian's chromedriver) against a real
/// controller holding the example manifests and three nodes: both languages, every page, a
/// capacity request filed from the form and approved from the page, checked through the API.
@Suite(
    "The dashboard in a real browser",
    .enabled(if: HostFacts.hasBrowser, "chromium, chromedriver (Debian) and selenium (PyPI) are needed"))
struct DashboardTests {
    /// Where the screenshots go: one per page and language.
    static let screenshots = packageRoot.appendingPathComponent(".build/dashboard-screenshots").path

    @Test(
        "operator and ministry-admin in Arabic and English: nodes and bars, the ministry's own view only, a request filed and approved, no console error"
    )
    func walkThrough() async throws {
        try await LiveController.with { live in
            let manifests = packageRoot.appendingPathComponent("manifests")
            for file in ["ministries.yaml", "finance.yaml", "health.yaml"] {
                let body = try String(contentsOf: manifests.appendingPathComponent(file), encoding: .utf8)
                #expect(try await LiveControllerTests.apply(live, body).status == 200, "\(file)")
            }
            // Three nodes in two datacentres, reporting as agents do.
            let nodes = (0..<3).map { live.node("dc-node-\($0)") }
            for (index, node) in nodes.enumerated() {
                let labels = ["datacentre": index < 2 ? "dc-damascus-1" : "dc-aleppo-1", "zone": "z\(index % 2)"]
                #expect(try await node.join(token: live.bootstrapToken, labels: labels).status == 201)
            }
            let reporting = Task {
                while !Task.isCancelled {
                    for (index, node) in nodes.enumerated() {
                        _ = try? await node.reportAssigned(labels: [
                            "datacentre": index < 2 ? "dc-damascus-1" : "dc-aleppo-1", "zone": "z\(index % 2)",
                        ])
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            defer { reporting.cancel() }
            do { try await walk(live, nodes) } catch { Issue.record(error) }
            reporting.cancel()
            _ = await reporting.value
            for node in nodes { await node.shutdown() }
        }
    }

    func walk(_ live: LiveController, _ nodes: [SimulatedNode]) async throws {
        do {
            let token = try await live.call(
                .POST, "/v1/tokens", token: live.operatorToken,
                body: #"{"subject": "hala", "role": "ministry-admin", "ministry": "health"}"#)
            let admin = try #require((token.json as? [String: Any])?["token"] as? String)
            let ministries = try await live.call(.GET, "/v1/ministries", token: live.operatorToken).items
            let arabic = ministries.compactMap {
                (($0["spec"] as? [String: Any])?["displayName"] as? [String: Any])?["ar"] as? String
            }
            try? FileManager.default.removeItem(atPath: Self.screenshots)
            let run = try await runProcess(
                URL(fileURLWithPath: "/usr/bin/env"),
                [
                    "python3", packageRoot.appendingPathComponent("scripts/ui_test.py").path, "--url", live.baseURL,
                    "--operator-token", live.operatorToken, "--admin-token", admin, "--ministry", "health",
                    "--ministries", String(ministries.count), "--arabic-names", arabic.joined(separator: ","),
                    "--nodes", nodes.map(\.name).joined(separator: ","), "--node", nodes[0].name,
                    "--screenshots", Self.screenshots,
                ], timeout: 400)
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
                "\(run.stdout)\n\(run.stderr.suffix(3000))")
            #expect(
                report["failure"] == nil,
                "\(report["failure"] ?? "") \(report["checks"] ?? "") \(report["requestsSection"] ?? "")")
            let checks = report["checks"] as? [String: Bool] ?? [:]
            for (name, passed) in checks.sorted(by: { $0.key < $1.key }) { #expect(passed, "\(name)") }
            for expected in [
                "arabic-by-default", "keyboard-reaches-sign-in", "overview-three-nodes", "overview-ministry-bars",
                "arabic-ministry-names", "fits-360", "cordon-uncordon", "error-shown-arabic", "sign-out-forgets",
                "admin-sees-only-own-ministry", "form-fields-labelled", "approved-in-page", "bars-carry-numbers",
            ] {
                #expect(checks[expected] == true, "\(expected) was not checked")
            }
            #expect(checks["keyboard-reaches-sign-in"] == true, "focus went: \(report["focused"] ?? "")")
            #expect((report["consoleErrors"] as? [String] ?? []).isEmpty, "\(report["consoleErrors"] ?? [])")
            #expect((report["untranslated"] as? [String] ?? []).isEmpty, "\(report["untranslated"] ?? [])")
            #expect((report["screenshots"] as? [String] ?? []).count >= 20)
            // What the pages did, through the API: the request filed, approved, audited.
            let name = try #require(report["requestName"] as? String)
            let request = try await live.call(.GET, "/v1/capacity-requests/\(name)", token: live.operatorToken)
            let status = (request.json as? [String: Any])?["status"] as? [String: Any]
            #expect(status?["phase"] as? String == "Approved", "\(request.body)")
            #expect(status?["requestedBy"] as? String == "hala")
            let audit = try await live.call(.GET, "/v1/audit?limit=5000", token: live.operatorToken).items
            #expect(
                audit.contains {
                    $0["action"] as? String == "approve" && ($0["object"] as? String ?? "").contains(name)
                        && $0["subject"] as? String == "admin"
                }, "the approval is in the audit log")
        }
    }

    @Test("every catalogue key is in both languages, and every key the pages use is in the catalogue")
    func catalogue() throws {
        let dir = packageRoot.appendingPathComponent("Sources/TansiqUI/UI")
        let data = try Data(contentsOf: dir.appendingPathComponent("messages.json"))
        let catalogue = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: String]])
        let arabic = Set(catalogue["ar"]?.keys ?? [:].keys)
        let english = Set(catalogue["en"]?.keys ?? [:].keys)
        #expect(arabic == english, "only in one: \(arabic.symmetricDifference(english).sorted())")
        #expect(arabic.count > 100)
        for (key, text) in catalogue["ar"] ?? [:] where key.hasPrefix("phase.") || key.hasPrefix("code.") {
            #expect(text != catalogue["en"]?[key], "\(key) is not translated")
        }
        var used: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path)
        where file.hasSuffix(".js") || file.hasSuffix(".html") {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            for pattern in [#"\bt\('([A-Za-z.-]+)'"#, #"data-i18n(?:-label)?="([A-Za-z.-]+)""#] {
                let regex = try NSRegularExpression(pattern: pattern)
                for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    if let range = Range(match.range(at: 1), in: text) { used.insert(String(text[range])) }
                }
            }
            // No words in the markup: every string comes from the catalogue.
            if file.hasSuffix(".html") {
                let withoutTags = text.replacingOccurrences(of: #"<[^>]*>"#, with: "", options: .regularExpression)
                let words = withoutTags.split(whereSeparator: \.isWhitespace).filter {
                    $0 != "العربية" && $0 != "English"
                }
                #expect(words.isEmpty, "text in \(file): \(words)")
            }
        }
        #expect(used.count > 60)
        #expect(
            used.subtracting(english).isEmpty, "used but not in the catalogue: \(used.subtracting(english).sorted())")
        // Every file of the folder is served.
        let served = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(
            Set(served)
                == Set(
                    ["index.html", "style.css", "messages.json", "icon.svg"] + served.filter { $0.hasSuffix(".js") }))
    }

    @Test("the dashboard's files are served with a strict policy, without a token; the API still needs one")
    func served() async throws {
        try await LiveController.with { live in
            for path in ["/ui/", "/ui", "/ui/app.js", "/ui/messages.json", "/ui/style.css"] {
                let reply = try await live.call(.GET, path, token: nil)
                #expect(reply.status == 200, "\(path)")
            }
            let response = try await live.api!.send(.GET, "/ui/")
            let headers = Dictionary(
                response.headers.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
            #expect(headers["content-security-policy"]?.hasPrefix("default-src 'self'; frame-ancestors 'none'") == true)
            #expect(headers["x-content-type-options"] == "nosniff")
            #expect(headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(!response.text.contains("<script>"), "no inline script")
            #expect(try await live.call(.GET, "/ui/../operator.token", token: nil).status == 404)
            #expect(try await live.call(.GET, "/ui/secrets.key", token: nil).status == 404)
            #expect(try await live.call(.GET, "/v1/whoami", token: nil).status == 401)
            let me = try await live.call(.GET, "/v1/whoami", token: live.operatorToken)
            #expect((me.json as? [String: Any])?["role"] as? String == "operator")
        }
    }
}
