import Foundation
import TansiqTestSupport
import Testing

/// The real `tansiq-controller` binary on a loopback port, spoken to over HTTPS.
@Suite("tansiq-controller over HTTPS", .serialized)
struct LiveControllerTests {
    /// Issues a token of `role` (for ministry `health` when a ministry role).
    static func token(_ live: LiveController, role: String, subject: String) async throws -> String {
        let ministry = role.hasPrefix("ministry-") ? #", "ministry": "health""# : ""
        let reply = try await live.call(
            .POST, "/v1/tokens", token: live.operatorToken,
            body: #"{"subject": "\#(subject)", "role": "\#(role)"\#(ministry), "ttl": "1h"}"#)
        guard reply.status == 201, let token = (reply.json as? [String: Any])?["token"] as? String else {
            throw LiveError.failed("token: \(reply.status) \(reply.body)")
        }
        return token
    }

    /// Applies a YAML stream as the operator.
    static func apply(_ live: LiveController, _ yaml: String) async throws -> Reply {
        try await live.call(.POST, "/v1/apply", token: live.operatorToken, body: yaml, contentType: "application/yaml")
    }

    static func version(_ live: LiveController) async throws -> Int {
        ((try await live.call(.GET, "/readyz", token: nil).json as? [String: Any])?["resourceVersion"] as? Int) ?? -1
    }

    @Test("init refuses an existing cluster and keeps secrets private")
    func initFiles() async throws {
        try await LiveController.with { live in
            let again = try await run("tansiq-controller", ["init", "--data-dir", live.dataDir])
            #expect(again.status == 1)
            #expect(again.stderr.contains("already holds a cluster"))
            let mode = { (name: String) in
                ((try? FileManager.default.attributesOfItem(atPath: live.dataDir + name))?[.posixPermissions] as? Int)
                    ?? -1
            }
            #expect(mode("") == 0o700)
            for secret in ["/operator.token", "/bootstrap.token", "/ca.key", "/controller.key"] {
                #expect(mode(secret) == 0o600, "\(secret)")
            }
            let usage = try await run("tansiq-controller", ["run", "--data-dir", live.dataDir, "--listen", "nowhere"])
            #expect(usage.status == 2)
            let missing = try await run(
                "tansiq-controller", ["run", "--data-dir", live.dataDir + "-none", "--listen", "127.0.0.1:0"])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("holds no cluster"))
        }
    }

    @Test("RBAC: every role against every class of endpoint, own and other ministry; refusals change nothing")
    func rbacMatrix() async throws {
        try await LiveController.with { live in
            #expect(try await Self.apply(live, Harness.ministries).status == 200)
            var tokens = ["operator": live.operatorToken]
            for role in ["ministry-admin", "ministry-viewer", "auditor"] {
                tokens[role] = try await Self.token(live, role: role, subject: "\(role)-person")
            }
            let roles = ["operator", "ministry-admin", "ministry-viewer", "auditor"]
            var serial = 0
            func fresh(_ ministry: String) async throws -> String {
                serial += 1
                let name = "app-\(serial)"
                let reply = try await live.call(
                    .POST, "/v1/apply", token: live.operatorToken, body: Harness.app(ministry, name, replicas: 1),
                    contentType: "application/yaml")
                #expect(reply.status == 200)
                return name
            }
            // (class, own-ministry request, expected status by role)
            typealias Probe = (name: String, call: (String) async throws -> Reply, expected: [String: Int])
            var probes: [Probe] = []
            for (label, ministry) in [("own", "health"), ("other", "finance")] {
                let admin = label == "own" ? 200 : 403
                let read = label == "own" ? 200 : 403
                probes += [
                    (
                        "apply application \(label)",
                        { t in
                            serial += 1
                            return try await live.call(
                                .POST, "/v1/apply", token: t,
                                body: Harness.app(ministry, "new-\(serial)", replicas: 1),
                                contentType: "application/yaml")
                        }, ["operator": 200, "ministry-admin": admin, "ministry-viewer": 403, "auditor": 403]
                    ),
                    (
                        "delete application \(label)",
                        { t in
                            let name = try await fresh(ministry)
                            return try await live.call(
                                .DELETE, "/v1/ministries/\(ministry)/applications/\(name)", token: t)
                        }, ["operator": 200, "ministry-admin": admin, "ministry-viewer": 403, "auditor": 403]
                    ),
                    (
                        "file capacity request \(label)",
                        { t in
                            try await live.call(
                                .POST, "/v1/capacity-requests", token: t,
                                body:
                                    #"{"metadata": {"ministry": "\#(ministry)"}, "spec": {"add": {"cpu": "1"}, "reason": "r"}}"#
                            )
                        },
                        [
                            "operator": 201, "ministry-admin": label == "own" ? 201 : 403, "ministry-viewer": 403,
                            "auditor": 403,
                        ]
                    ),
                    (
                        "read ministry \(label)",
                        { t in try await live.call(.GET, "/v1/ministries/\(ministry)", token: t) },
                        ["operator": 200, "ministry-admin": read, "ministry-viewer": read, "auditor": 200]
                    ),
                    (
                        "list applications \(label)",
                        { t in
                            try await live.call(.GET, "/v1/ministries/\(ministry)/applications", token: t)
                        }, ["operator": 200, "ministry-admin": read, "ministry-viewer": read, "auditor": 200]
                    ),
                    (
                        "list instances \(label)",
                        { t in try await live.call(.GET, "/v1/instances?ministry=\(ministry)", token: t) },
                        ["operator": 200, "ministry-admin": read, "ministry-viewer": read, "auditor": 200]
                    ),
                ]
            }
            probes += [
                (
                    "apply ministry",
                    { t in
                        try await live.call(
                            .POST, "/v1/apply", token: t,
                            body: Harness.ministries.replacingOccurrences(of: "instances: 10", with: "instances: 11"),
                            contentType: "application/yaml")
                    }, ["operator": 200, "ministry-admin": 403, "ministry-viewer": 403, "auditor": 403]
                ),
                (
                    "approve capacity request",
                    { t in
                        serial += 1
                        let name = "request-\(serial)"
                        let filed = try await live.call(
                            .POST, "/v1/capacity-requests", token: tokens["ministry-admin"],
                            body:
                                #"{"metadata": {"name": "\#(name)", "ministry": "health"}, "spec": {"add": {"cpu": "1"}, "reason": "r"}}"#
                        )
                        #expect(filed.status == 201)
                        return try await live.call(.POST, "/v1/capacity-requests/\(name)/approve", token: t)
                    }, ["operator": 200, "ministry-admin": 403, "ministry-viewer": 403, "auditor": 403]
                ),
                (
                    "issue token",
                    { t in
                        try await live.call(
                            .POST, "/v1/tokens", token: t, body: #"{"subject": "x", "role": "auditor"}"#)
                    }, ["operator": 201, "ministry-admin": 403, "ministry-viewer": 403, "auditor": 403]
                ),
                (
                    "list tokens", { t in try await live.call(.GET, "/v1/tokens", token: t) },
                    ["operator": 200, "ministry-admin": 403, "ministry-viewer": 403, "auditor": 200]
                ),
                (
                    "read audit log", { t in try await live.call(.GET, "/v1/audit", token: t) },
                    ["operator": 200, "ministry-admin": 403, "ministry-viewer": 403, "auditor": 200]
                ),
                (
                    "read metrics", { t in try await live.call(.GET, "/metrics", token: t) },
                    ["operator": 200, "ministry-admin": 403, "ministry-viewer": 403, "auditor": 200]
                ),
                (
                    "read quotas", { t in try await live.call(.GET, "/v1/quotas", token: t) },
                    ["operator": 200, "ministry-admin": 200, "ministry-viewer": 200, "auditor": 200]
                ),
                (
                    "read capacity", { t in try await live.call(.GET, "/v1/capacity", token: t) },
                    ["operator": 200, "ministry-admin": 200, "ministry-viewer": 200, "auditor": 200]
                ),
            ]
            for probe in probes {
                for role in roles {
                    let expected = probe.expected[role]!
                    let before = try await Self.version(live)
                    let reply = try await probe.call(tokens[role]!)
                    #expect(reply.status == expected, "\(probe.name) as \(role): \(reply.body)")
                    if expected == 403 {
                        #expect(reply.errorCode == "forbidden", "\(probe.name) as \(role)")
                        // Setup calls may have moved the version; the refused call itself must not.
                        let setupMoved = probe.name.hasPrefix("delete") || probe.name.hasPrefix("approve")
                        if !setupMoved { #expect(try await Self.version(live) == before, "\(probe.name) as \(role)") }
                    }
                }
            }
            for dead in ["expired", "revoked"] {
                var token = try await Self.token(live, role: "auditor", subject: dead)
                if dead == "revoked" {
                    let id = String(token.dropFirst(3).prefix { $0 != "." })
                    #expect(try await live.call(.DELETE, "/v1/tokens/\(id)", token: live.operatorToken).status == 200)
                } else {
                    let reply = try await live.call(
                        .POST, "/v1/tokens", token: live.operatorToken,
                        body: #"{"subject": "brief", "role": "auditor", "ttl": "1s"}"#)
                    token = (reply.json as? [String: Any])?["token"] as? String ?? ""
                    try await Task.sleep(for: .milliseconds(1100))
                }
                #expect(try await live.call(.GET, "/v1/quotas", token: token).status == 401, "\(dead)")
            }
            let audit = try await live.call(.GET, "/v1/audit?limit=5000", token: live.operatorToken)
            #expect(audit.items.filter { $0["result"] as? String == "forbidden" }.count >= 20)
        }
    }

    @Test("every acknowledged write survives kill -9, and the audit log matches")
    func durability() async throws {
        try await LiveController.with { live in
            let ministries = Harness.ministries.replacingOccurrences(of: "instances: 10", with: "instances: 1000")
                .replacingOccurrences(of: "cpu: 2,", with: "cpu: 1000,").replacingOccurrences(
                    of: "memory: 4Gi", with: "memory: 1Ti")
            #expect(
                try await live.call(
                    .POST, "/v1/apply", token: live.operatorToken, body: ministries,
                    contentType: "application/yaml"
                ).status == 200)
            let acknowledged = AcknowledgedNames()
            let writers = (0..<6).map { writer in
                Task {
                    var i = 0
                    while !Task.isCancelled {
                        i += 1
                        let name = "w\(writer)-\(i)"
                        guard
                            let reply = try? await live.call(
                                .POST, "/v1/apply", token: live.operatorToken,
                                body: Harness.app(
                                    writer % 2 == 0 ? "health" : "finance", name, replicas: 1, cpu: "10m"),
                                contentType: "application/yaml", timeout: 5)
                        else { return }
                        if reply.status == 200 { await acknowledged.add(name) }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(1500))
            try await live.stop(signal: SIGKILL)
            for writer in writers { writer.cancel() }
            for writer in writers { await writer.value }
            let names = await acknowledged.names
            #expect(names.count > 20, "only \(names.count) writes were acknowledged")
            try await live.start()
            var stored: Set<String> = []
            for ministry in ["health", "finance"] {
                let apps = try await live.call(
                    .GET, "/v1/ministries/\(ministry)/applications", token: live.operatorToken)
                for item in apps.items { stored.insert((item["metadata"] as? [String: Any])?["name"] as? String ?? "") }
            }
            #expect(names.isSubset(of: stored), "lost: \(names.subtracting(stored).sorted())")
            let audit = try await live.call(.GET, "/v1/audit?limit=5000", token: live.operatorToken)
            let created = Set(
                audit.items.filter { $0["action"] as? String == "apply" && $0["result"] as? String == "created" }
                    .compactMap { ($0["object"] as? String)?.split(separator: "/").last.map(String.init) })
            #expect(stored.subtracting(["health", "finance"]).isSubset(of: created))
            #expect(names.isSubset(of: created))
        }
    }

    @Test("50 concurrent applies from two ministries never admit past the quota; the losers get 422 with numbers")
    func concurrentAdmission() async throws {
        try await LiveController.with { live in
            // No cohort: each ministry may admit exactly its own 5 cpu.
            let ministries = Harness.ministries.replacingOccurrences(of: "  cohort: shared\n", with: "")
                .replacingOccurrences(of: "  lendingLimit: {cpu: 1}\n", with: "")
                .replacingOccurrences(of: "cpu: 2,", with: "cpu: 5,").replacingOccurrences(
                    of: "instances: 10", with: "instances: 100")
            let setup = try await live.call(
                .POST, "/v1/apply", token: live.operatorToken, body: ministries,
                contentType: "application/yaml")
            #expect(setup.status == 200, "\(setup.body)")
            let replies = try await withThrowingTaskGroup(of: (String, Reply).self) { group in
                for i in 0..<50 {
                    let ministry = i % 2 == 0 ? "health" : "finance"
                    group.addTask {
                        let reply = try await live.call(
                            .POST, "/v1/apply", token: live.operatorToken,
                            body: Harness.app(ministry, "race-\(i)", replicas: 1, cpu: "1"),
                            contentType: "application/yaml"
                        )
                        return (ministry, reply)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for ministry in ["health", "finance"] {
                let mine = replies.filter { $0.0 == ministry }.map(\.1)
                #expect(mine.filter { $0.status == 200 }.count == 5, "\(ministry)")
                let refused = mine.filter { $0.status == 422 }
                #expect(refused.count == 20)
                #expect(refused.allSatisfy { $0.errorCode == "quota-exceeded" && $0.body.contains("cpu 6") })
            }
            let quotas = try await live.call(.GET, "/v1/quotas", token: live.operatorToken)
            for item in quotas.items {
                #expect((item["admitted"] as? [String: Any])?["cpu"] as? String == "5")
            }
        }
    }

    @Test("SIGTERM stops the controller cleanly: exit 0, the store closed")
    func gracefulStop() async throws {
        try await LiveController.with { live in
            #expect(try await Self.apply(live, Harness.ministries).status == 200)
            #expect(try await live.stop(signal: SIGTERM) == 0, "\(live.stderr)")
            #expect(!FileManager.default.fileExists(atPath: live.dataDir + "/tansiq.db-wal"))
            try await live.start()
            let ministries = try await live.call(.GET, "/v1/ministries", token: live.operatorToken)
            #expect(ministries.items.count == 2)
        }
    }
}

/// Names whose apply was acknowledged.
actor AcknowledgedNames {
    private(set) var names: Set<String> = []
    func add(_ name: String) { names.insert(name) }
}
