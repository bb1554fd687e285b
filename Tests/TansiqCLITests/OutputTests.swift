import Foundation
import TansiqTestSupport
import Testing

/// What `tansiq get` prints, against a real controller: golden documents of every kind, output
/// that applies back unchanged, label selectors, watches, Arabic text, and a closed pipe.
@Suite("tansiq output", .serialized)
struct OutputTests {
    static let golden = packageRoot.appendingPathComponent("Tests/TansiqCLITests/Golden/output")

    /// A controller with the example ministries and applications, one cordoned node (so that every
    /// instance waits, for the same reason every time) and a ministry-admin token of health.
    static func cluster(_ body: (LiveController, [String: String]) async throws -> Void) async throws {
        try await LiveController.with { live in
            let config = live.dataDir + "-cli.yaml"
            let admin = ClusterCommandTests.environment(live, token: live.operatorToken, config: config)
            let node = live.node("node-a")
            #expect(
                try await node.join(token: live.bootstrapToken, labels: ["zone": "z1", "datacentre": "dc1"]).status
                    == 201)
            _ = try await node.reportAssigned(labels: ["zone": "z1", "datacentre": "dc1"])
            #expect(try await ClusterCommandTests.tansiq(["node", "cordon", "node-a"], admin).status == 0)
            let manifests = packageRoot.appendingPathComponent("manifests").path
            let applied = try await ClusterCommandTests.tansiq(["apply", "-f", manifests], admin)
            #expect(applied.status == 0, "\(applied.stderr)")
            let settled = try await eventually(.seconds(10)) {
                try await live.call(.GET, "/v1/instances", token: live.operatorToken).items.allSatisfy {
                    ($0["reason"] as? String)?.contains("cordoned") == true
                }
            }
            #expect(settled, "every instance waits for the cordoned node")
            do {
                try await body(live, admin)
            } catch {
                Issue.record(error)
            }
            await node.shutdown()
            try? FileManager.default.removeItem(atPath: config)
        }
    }

    /// Times, versions and token ids, which change from run to run, made constant.
    static func normalised(_ text: String) -> String {
        var text = text
        let rules = [
            (#"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"#, "2027-01-01T00:00:00Z"),
            (#"("resourceVersion" : |resourceVersion: )\d+"#, "$1RV"),
            (#"\b[0-9a-f]{16}\b"#, "TOKENID"),
        ]
        for (pattern, template) in rules {
            let regex = try! NSRegularExpression(pattern: pattern)
            text = regex.stringByReplacingMatches(
                in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
        }
        return text
    }

    static func check(_ output: String, against file: String) throws {
        let path = golden.appendingPathComponent(file)
        let text = normalised(output)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: golden, withIntermediateDirectories: true)
            try text.write(to: path, atomically: true, encoding: .utf8)
        }
        let expected = (try? String(contentsOf: path, encoding: .utf8)) ?? "(no golden file \(file))"
        #expect(text == expected, "\(file) differs:\n\(text)")
    }

    @Test("the YAML and JSON of every kind match their golden files: integers as integers, Arabic as text")
    func goldenDocuments() async throws {
        try await Self.cluster { _, admin in
            for (kind, arguments) in [
                ("nodes", ["get", "nodes"]), ("apps", ["get", "apps", "-A"]),
                ("instances", ["get", "instances", "-A"]),
                ("ministries", ["get", "ministries"]), ("requests", ["get", "requests"]),
                ("tokens", ["get", "tokens"]),
                ("bootstrap-tokens", ["get", "bootstrap-tokens"]),
            ] {
                for format in ["yaml", "json"] {
                    let result = try await ClusterCommandTests.tansiq(arguments + ["-o", format], admin)
                    #expect(result.status == 0, "\(kind) \(format): \(result.stderr)")
                    try Self.check(result.stdout, against: "\(kind).\(format)")
                }
            }
            let ministry = try await ClusterCommandTests.tansiq(["get", "ministry", "health", "-o", "yaml"], admin)
            #expect(ministry.stdout.contains("ar: وزارة الصحة"), "Arabic as text, not escapes")
            #expect(ministry.stdout.contains("instances: 20\n") && !ministry.stdout.contains("e+"), "integers")
            let table = try await ClusterCommandTests.tansiq(["get", "apps", "-A", "--lang", "ar"], admin)
            #expect(table.stdout.contains("وزارة المالية") && table.stdout.contains("e-payment"))
            var arabic = admin
            arabic["TANSIQ_LANG"] = "ar"
            let wide = try await ClusterCommandTests.tansiq(["get", "ministries", "-o", "wide"], arabic)
            #expect(wide.stdout.contains("Ministry of Health") && wide.stdout.contains("GOV-MOH"))
            #expect(wide.stdout.split(separator: "\n").dropFirst().first?.hasPrefix("وزارة") == true, "\(wide.stdout)")
        }
    }

    @Test("get -o yaml of an application, a ministry and a capacity request applies back unchanged")
    func roundTrip() async throws {
        try await Self.cluster { _, admin in
            for arguments in [
                ["get", "app", "e-payment", "-m", "finance"], ["get", "ministry", "health"],
                ["get", "request", "health-2027"],
            ] {
                let yaml = try await ClusterCommandTests.tansiq(arguments + ["-o", "yaml"], admin)
                let applied = try await runProcess(
                    productsDirectory.appendingPathComponent("tansiq"), ["apply", "-f", "-"], stdin: yaml.stdout,
                    environment: admin)
                #expect(applied.status == 0, "\(arguments): \(applied.stderr)")
                #expect(applied.stdout.hasSuffix(" unchanged\n"), "\(arguments): \(applied.stdout)")
                // Edited, it applies as a change.
                let edited = yaml.stdout.replacingOccurrences(
                    of: "Vaccination registry season", with: "Vaccination season"
                )
                .replacingOccurrences(of: "replicas: 3", with: "replicas: 2")
                .replacingOccurrences(of: "weight: 1", with: "weight: 2")
                let changed = try await runProcess(
                    productsDirectory.appendingPathComponent("tansiq"), ["apply", "-f", "-"], stdin: edited,
                    environment: admin)
                #expect(changed.stdout.hasSuffix(" configured\n"), "\(arguments): \(changed.stdout) \(changed.stderr)")
            }
        }
    }

    @Test("-l selects on the controller what the API's labelSelector selects")
    func selectors() async throws {
        try await Self.cluster { live, admin in
            let names = { (selector: String) async throws -> [String] in
                try await ClusterCommandTests.tansiq(["get", "apps", "-A", "-l", selector, "-o", "name"], admin).stdout
                    .split(separator: "\n").map(String.init)
            }
            let api = { (selector: String) async throws -> [String] in
                var found: [String] = []
                for ministry in ["communications", "finance", "health", "interior", "local-administration"] {
                    let escaped = selector.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? selector
                    found += try await live.call(
                        .GET, "/v1/ministries/\(ministry)/applications?labelSelector=\(escaped)",
                        token: live.operatorToken
                    ).items.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
                        .map { "application/\($0)" }
                }
                return found.sorted()
            }
            let national = try await names("tier=national")
            #expect(national.sorted() == (try await api("tier=national")))
            #expect(national.contains("application/e-payment") && !national.contains("application/nightly-report"))
            let others = try await names("tier!=national")
            #expect(Set(others).isDisjoint(with: national) && others.contains("application/nightly-report"))
            #expect(others.sorted() == (try await api("tier!=national")))
            let untiered = try await names("!tier")
            #expect(
                untiered.sorted() == (try await api("!tier")) && untiered.contains("application/vaccination-registry"))
            let bad = try await ClusterCommandTests.tansiq(["get", "apps", "-A", "-l", "bad key=1"], admin)
            #expect(bad.status == 2 && bad.stderr.contains("not a label key"))
            let refused = try await live.call(.GET, "/v1/nodes?labelSelector=a%20b", token: live.operatorToken)
            #expect(refused.status == 400 && refused.body.contains("labelSelector"))
        }
    }

    @Test("get -w prints the change a concurrent apply makes within a second")
    func watch() async throws {
        try await Self.cluster { _, admin in
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString)")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: output) }
            let process = Process()
            process.executableURL = productsDirectory.appendingPathComponent("tansiq")
            process.arguments = ["get", "apps", "-m", "finance", "-w"]
            process.environment = admin
            let handle = try FileHandle(forWritingTo: output)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            defer { process.terminate() }
            let listed = try await eventually(.seconds(10)) {
                ((try? String(contentsOf: output, encoding: .utf8)) ?? "").contains("nightly-report")
            }
            #expect(listed)
            try await Task.sleep(for: .milliseconds(500))
            let before = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            let scaled = try await ClusterCommandTests.tansiq(
                ["scale", "e-payment", "-m", "finance", "--replicas", "2"], admin)
            #expect(scaled.status == 0, "\(scaled.stderr)")
            let start = ContinuousClock.now
            let seen = try await eventually(.seconds(5)) {
                let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
                return text.dropFirst(before.count).contains("e-payment") && text.dropFirst(before.count).contains("/2")
            }
            #expect(seen, "\((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
            #expect(ContinuousClock.now - start < .seconds(1), "within a second")
        }
    }

    @Test("a closed stdout ends the command quietly with status 0")
    func closedPipe() async throws {
        try await Self.cluster { _, admin in
            // Enough instances that the YAML outgrows the pipe's buffer, so writes meet a closed pipe.
            let many = """
                apiVersion: tansiq/v1
                kind: Ministry
                metadata: {name: bulk}
                spec:
                  code: GOV-BULK
                  displayName: {en: Bulk, ar: كثير}
                  quota: {cpu: 10, memory: 10Gi, storage: 0, instances: 400}
                ---
                apiVersion: tansiq/v1
                kind: Application
                metadata: {name: many, ministry: bulk}
                spec:
                  replicas: 300
                  resources: {cpu: 1m, memory: 1Mi}
                  run: {command: [/bin/true]}
                """
            let applied = try await runProcess(
                productsDirectory.appendingPathComponent("tansiq"), ["apply", "-f", "-"], stdin: many,
                environment: admin)
            #expect(applied.status == 0, "\(applied.stderr)")
            let tansiq = productsDirectory.appendingPathComponent("tansiq").path
            let piped = try await runProcess(
                URL(fileURLWithPath: "/bin/bash"),
                [
                    "-c",
                    "\"$0\" get instances -A -o yaml 2>\"$1\" | head -1; echo \"status=${PIPESTATUS[0]}\"; cat \"$1\"",
                    tansiq,
                    FileManager.default.temporaryDirectory.appendingPathComponent("epipe-\(UUID().uuidString)").path,
                ],
                environment: admin)
            // One line through head, the status of tansiq, and nothing it wrote to stderr.
            let lines = piped.stdout.split(separator: "\n")
            #expect(lines.count == 2, "\(piped.stdout)")
            #expect(lines.first?.hasPrefix("application: ") == true, "\(piped.stdout)")
            #expect(lines.last == "status=0", "\(piped.stdout)")
        }
    }

    @Test("rollout undo applies the previous generation's template again as a new generation; history lists both")
    func undo() async throws {
        try await Self.cluster { live, admin in
            let yaml = try await ClusterCommandTests.tansiq(
                ["get", "app", "nightly-report", "-m", "finance", "-o", "yaml"], admin)
            let changed = yaml.stdout.replacingOccurrences(of: "policy: on-failure", with: "policy: always")
            let applied = try await runProcess(
                productsDirectory.appendingPathComponent("tansiq"), ["apply", "-f", "-"], stdin: changed,
                environment: admin)
            #expect(applied.stdout.contains("configured"), "\(applied.stderr)")
            let undone = try await ClusterCommandTests.tansiq(
                ["rollout", "undo", "nightly-report", "-m", "finance"], admin)
            #expect(undone.status == 0, "\(undone.stderr)")
            #expect(
                undone.stdout.contains("generation 1") && undone.stdout.contains("now generation 3"), "\(undone.stdout)"
            )
            let app =
                try await live.call(
                    .GET, "/v1/ministries/finance/applications/nightly-report", token: live.operatorToken
                ).json as? [String: Any]
            let spec = app?["spec"] as? [String: Any]
            #expect((spec?["restart"] as? [String: Any])?["policy"] as? String == "on-failure", "the old template")
            #expect((app?["metadata"] as? [String: Any])?["generation"] as? Int == 3)
            let history = try await ClusterCommandTests.tansiq(
                ["rollout", "history", "nightly-report", "-m", "finance"], admin)
            #expect(
                history.stdout.split(separator: "\n").count == 4, "a header and three generations: \(history.stdout)")
            #expect(history.stdout.contains("3 (current)") && history.stdout.contains("admin"))
            let none = try await ClusterCommandTests.tansiq(
                ["rollout", "undo", "gis-tiles", "-m", "local-administration"], admin)
            #expect(none.status == 1 && none.stderr.contains("no earlier generation"), "\(none.stderr)")
        }
    }
}
