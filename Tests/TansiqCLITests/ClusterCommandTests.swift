import Foundation
import TansiqTestSupport
import Testing

/// The CLI's cluster commands against a real controller.
@Suite("tansiq against a controller", .serialized)
struct ClusterCommandTests {
    static func environment(_ live: LiveController, token: String, config: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["TANSIQ_SERVER"] = live.baseURL
        environment["TANSIQ_CA"] = live.dataDir + "/ca.crt"
        environment["TANSIQ_TOKEN"] = token
        environment["TANSIQ_CONFIG"] = config
        return environment
    }

    static func tansiq(_ arguments: [String], _ environment: [String: String]) async throws -> RunResult {
        try await runProcess(productsDirectory.appendingPathComponent("tansiq"), arguments, environment: environment)
    }

    @Test("apply, get, token, request, quota, delete, config — and the refusals a person reads")
    func commands() async throws {
        try await LiveController.with { live in
            let config = live.dataDir + "-cli.yaml"
            let admin = Self.environment(live, token: live.operatorToken, config: config)
            let manifests = packageRoot.appendingPathComponent("manifests").path
            let applied = try await Self.tansiq(["apply", "-f", manifests + "/ministries.yaml"], admin)
            #expect(applied.status == 0, "\(applied.stderr)")
            #expect(applied.stdout.contains("Ministry/finance created"))
            let table = try await Self.tansiq(["get", "ministries"], admin)
            let golden = packageRoot.appendingPathComponent("Tests/TansiqCLITests/Golden/get-ministries.txt")
            if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
                try table.stdout.write(to: golden, atomically: true, encoding: .utf8)
            }
            #expect(
                table.stdout == (try String(contentsOf: golden, encoding: .utf8)), "the table matches its golden file")
            let ministries = try await Self.tansiq(["get", "ministries", "-o", "json"], admin)
            let json = try JSONSerialization.jsonObject(with: Data(ministries.stdout.utf8)) as? [String: Any]
            #expect((json?["items"] as? [Any])?.count == 5)
            let yaml = try await Self.tansiq(["get", "ministries", "-o", "yaml"], admin)
            #expect(yaml.stdout.hasPrefix("apiVersion: tansiq/v1\nkind: Ministry\n"), "a stream of documents")
            #expect(
                try await Self.tansiq(["apply", "-f", manifests + "/finance.yaml", "--wait", "--timeout", "1s"], admin)
                    .status
                    == 1,
                "--wait times out without nodes")
            let apps = try await Self.tansiq(["get", "apps", "-m", "finance"], admin)
            #expect(apps.stdout.contains("e-payment") && apps.stdout.contains("0/3"))

            let token = try await Self.tansiq(
                ["token", "create", "--subject", "hala", "--role", "ministry-admin", "-m", "health"], admin)
            #expect(token.status == 0, "\(token.stderr)")
            let health = Self.environment(
                live, token: token.stdout.trimmingCharacters(in: .whitespacesAndNewlines), config: config)
            let refused = try await Self.tansiq(["apply", "-f", manifests + "/finance.yaml"], health)
            #expect(refused.status == 1)
            #expect(
                refused.stderr.contains(
                    "(ministry-admin of ministry health) may not apply Application/finance/e-payment"))
            let filed = try await Self.tansiq(
                ["request", "capacity", "-m", "health", "--name", "extra", "--cpu", "1", "--reason", "season"], health)
            #expect(filed.status == 0, "\(filed.stderr)")
            #expect(try await Self.tansiq(["request", "approve", "extra"], health).status == 1)
            #expect(try await Self.tansiq(["request", "approve", "extra", "--comment", "ok"], admin).status == 0)
            #expect(try await Self.tansiq(["get", "requests"], health).stdout.contains("Approved"))
            let quota = try await Self.tansiq(["quota", "health"], health)
            #expect(quota.stdout.contains("health") && quota.stdout.contains("%"), "\(quota.stdout)")
            #expect(quota.stdout.contains("FAIR SHARE") && quota.stdout.contains("0‰"), "\(quota.stdout)")
            #expect(try await Self.tansiq(["capacity"], health).status == 0)
            #expect(try await Self.tansiq(["usage", "-o", "csv"], admin).stdout.hasPrefix("ministry,"))

            let same = try await Self.tansiq(["diff", "-f", manifests + "/finance.yaml"], admin)
            #expect(same.status == 0, "nothing would change: \(same.stdout) \(same.stderr)")
            let edited = live.dataDir + "-finance.yaml"
            try String(contentsOfFile: manifests + "/finance.yaml", encoding: .utf8)
                .replacingOccurrences(of: "replicas: 3", with: "replicas: 4").write(
                    toFile: edited, atomically: true, encoding: .utf8)
            let diff = try await Self.tansiq(["diff", "-f", edited], admin)
            #expect(diff.status == 1)
            #expect(diff.stdout.contains("--- Application/finance/e-payment (cluster)"))
            #expect(diff.stdout.contains("-replicas: 3") && diff.stdout.contains("+replicas: 4"), "\(diff.stdout)")
            let described = try await Self.tansiq(["describe", "app", "e-payment", "-m", "finance"], admin)
            #expect(described.status == 0, "\(described.stderr)")
            #expect(described.stdout.contains("Priority:           critical"), "\(described.stdout)")
            #expect(described.stdout.contains("is pending [InsufficientCapacity]: 0/0 nodes"), "\(described.stdout)")
            let wide = try await Self.tansiq(["get", "instances", "-m", "finance", "-o", "wide"], admin)
            #expect(
                wide.stdout.contains("REASON CODE") && wide.stdout.contains("InsufficientCapacity"), "\(wide.stdout)")
            let ministry = try await Self.tansiq(["describe", "ministry", "health"], health).stdout
            #expect(ministry.contains("Effective quota:") && ministry.contains("Fair share:"), "\(ministry)")
            #expect(ministry.contains("0‰ of the cohort's lendable pool, weight 1"), "\(ministry)")
            let deleted = try await Self.tansiq(["delete", "app", "e-payment", "-m", "finance"], admin)
            #expect(deleted.stdout.contains("Application/finance/e-payment deleted"), "\(deleted.stderr)")
            let invalid = try await Self.tansiq(["apply", "-f", "/dev/null/nope.yaml"], admin)
            #expect(invalid.status == 1)
            var away = admin
            away["TANSIQ_SERVER"] = "https://127.0.0.1:1"
            let unreachable = try await Self.tansiq(["get", "nodes"], away)
            #expect(unreachable.status == 1)
            #expect(unreachable.stderr.contains("cannot reach https://127.0.0.1:1"), "\(unreachable.stderr)")
            #expect(try await Self.tansiq(["get", "apps"], admin).status == 2, "apps need -m or -A")

            var bare = ProcessInfo.processInfo.environment
            bare["TANSIQ_CONFIG"] = config
            let set = try await Self.tansiq(
                [
                    "config", "set-context", "lab", "--server", live.baseURL, "--ca", live.dataDir + "/ca.crt",
                    "--token",
                    live.operatorToken, "--use",
                ], bare)
            #expect(set.status == 0)
            let view = try await Self.tansiq(["config", "view"], bare)
            #expect(view.stdout.contains("REDACTED") && !view.stdout.contains(live.operatorToken))
            #expect(
                try await Self.tansiq(["get", "ministries"], bare).stdout.contains("GOV-MOH"), "the context is used")
            // A context of several controllers: the first unreachable, the next answers.
            let dead = "https://127.0.0.1:\(try LiveRegistry.freePort())"
            let several = try await Self.tansiq(
                [
                    "config", "set-context", "pair", "--server", dead, "--server", live.baseURL, "--ca",
                    live.dataDir + "/ca.crt", "--token", live.operatorToken, "--use",
                ], bare)
            #expect(several.status == 0, "\(several.stderr)")
            let written = try String(contentsOfFile: config, encoding: .utf8)
            #expect(written.contains("servers:") && written.contains(dead), "\(written)")
            let failedOver = try await Self.tansiq(["get", "ministries"], bare)
            #expect(failedOver.status == 0 && failedOver.stdout.contains("GOV-MOH"), "\(failedOver.stderr)")
            var commaSeparated = admin
            commaSeparated["TANSIQ_SERVER"] = "\(dead),\(live.baseURL)"
            #expect(try await Self.tansiq(["get", "ministries"], commaSeparated).status == 0)
            let otherDead = "https://127.0.0.1:\(try LiveRegistry.freePort())"
            let allDead = try await Self.tansiq(["get", "nodes", "--server", dead, "--server", otherDead], admin)
            #expect(allDead.status == 1 && allDead.stderr.contains("cannot reach"), "\(allDead.stderr)")
            try? FileManager.default.removeItem(atPath: config)
        }
    }
}
