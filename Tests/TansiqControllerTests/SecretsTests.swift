import Crypto
import Foundation
import TansiqAPI
import TansiqTestSupport
import Testing

/// Secrets end to end: a real controller, real agents running real runc instances that read their
/// secret from its mount and their environment; the value looked for everywhere it must not be.
@Suite(
    "Secrets: sealed at rest, delivered only to their own instances",
    .serialized, .enabled(if: HostFacts.hasRunc, "runc is not installed on this machine"))
struct SecretsTests {
    static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// An application that writes, every half second, the SHA-256 of its secret's file and of its
    /// environment variable, and the file's mode and owner, into /data/out — never the value.
    /// Without `env`, the variable is not set (an application that takes a secret in its
    /// environment always restarts when it changes).
    static func reader(
        _ ministry: String, _ name: String, secret: String = "db", restart: Bool = true, replicas: Int = 1,
        env: Bool = true
    ) -> String {
        let script =
            "while true; do { sha256sum < /run/secrets/\(secret)/password | cut -d' ' -f1; "
            + "printf %s \\\"$DB_PASSWORD\\\" | sha256sum | cut -d' ' -f1; "
            + "stat -c '%a %u' /run/secrets/\(secret)/password; } > /data/out.new; mv /data/out.new /data/out; "
            + "sleep 0.5; done"
        return """
            apiVersion: tansiq/v1
            kind: Application
            metadata: {name: \(name), ministry: \(ministry)}
            spec:
              replicas: \(replicas)
              resources: {cpu: 100m, memory: 64Mi}
              run:
                command: ["/bin/sh", "-c", "\(script)"]
            \(env ? "    env: {DB_PASSWORD: {secret: \(secret), key: password}}" : "    env: {}")
              secrets: [{name: \(secret), restartOnChange: \(restart)}]
            """
    }

    /// What an instance wrote: the two hashes and the file's mode and owner.
    static func seen(_ agents: [LiveAgent], _ id: String) -> [String] {
        for agent in agents {
            if let text = try? String(contentsOfFile: agent.dataDir + "/instances/\(id)/data/out", encoding: .utf8) {
                return text.split(separator: "\n").map(String.init)
            }
        }
        return []
    }

    static func tansiq(_ arguments: [String], _ live: LiveController, stdin: String? = nil) async throws -> RunResult {
        var environment = ProcessInfo.processInfo.environment
        environment["TANSIQ_SERVER"] = live.baseURL
        environment["TANSIQ_CA"] = live.dataDir + "/ca.crt"
        environment["TANSIQ_TOKEN"] = live.operatorToken
        environment["TANSIQ_CONFIG"] = live.dataDir + "-cli.yaml"
        return try await runProcess(
            productsDirectory.appendingPathComponent("tansiq"), arguments, stdin: stdin, environment: environment)
    }

    static func instances(_ live: LiveController, _ app: String) async throws -> [[String: Any]] {
        try await live.call(.GET, "/v1/instances?application=\(app)", token: live.operatorToken).items
            .filter { !["Lost", "Preempted", "Stopped"].contains($0["phase"] as? String ?? "") }
    }

    /// Tokens of every role, for reading everything the API answers.
    static func tokens(_ live: LiveController) async throws -> [String] {
        var tokens = [live.operatorToken]
        for (role, ministry) in [("auditor", nil), ("ministry-admin", "health"), ("ministry-viewer", "health")] {
            let body =
                #"{"subject": "s-\#(role)", "role": "\#(role)""# + (ministry.map { #", "ministry": "\#($0)""# } ?? "")
                + "}"
            let reply = try await live.call(.POST, "/v1/tokens", token: live.operatorToken, body: body)
            tokens.append(((reply.json as? [String: Any])?["token"] as? String) ?? "")
        }
        return tokens
    }

    @Test(
        "an instance reads its secret from its mount and its environment; the value is nowhere else: not in the store, the audit log, the logs, the agent's state, any role's answers or get -o yaml"
    )
    func deliveredOnlyToItsInstances() async throws {
        try await LiveController.with(arguments: ["--grace-period", "30s"]) { live in
            let agents = [
                try await LiveAgent(live, name: "secret-a", zone: "z1", ports: 22300...22349),
                try await LiveAgent(live, name: "secret-b", zone: "z2", ports: 22350...22399),
            ]
            do {
                let value = "pw-" + UUID().uuidString
                let certificate = "-----BEGIN KEY-----\n" + UUID().uuidString + "\n-----END KEY-----\n"
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                let created = try await Self.tansiq(
                    [
                        "secret", "create", "db", "-m", "health", "--from-literal", "password=\(value)",
                        "--from-file", "tls.key=-",
                    ], live, stdin: certificate)
                #expect(created.status == 0, "\(created.stderr)")
                #expect(created.stdout == "Secret/health/db created\n")
                #expect(!created.stdout.contains(value) && !created.stderr.contains(value))
                // The same values again: unchanged; the secret's view has keys and size only.
                let again = try await Self.tansiq(
                    [
                        "secret", "create", "db", "-m", "health", "--from-literal", "password=\(value)",
                        "--from-file", "tls.key=-",
                    ], live, stdin: certificate)
                #expect(again.stdout == "Secret/health/db unchanged\n", "\(again.stderr)")
                let view = try await live.call(.GET, "/v1/ministries/health/secrets/db", token: live.operatorToken)
                let json = view.json as? [String: Any]
                #expect(json?["keys"] as? [String] == ["password", "tls.key"])
                #expect(json?["size"] as? Int == value.utf8.count + certificate.utf8.count)
                #expect(json?["version"] as? Int == 1 && json?["updatedBy"] as? String == "admin")

                #expect(try await LiveControllerTests.apply(live, Self.reader("health", "reader")).status == 200)
                // An application of another ministry that uses no secret, on the other node.
                #expect(
                    try await LiveControllerTests.apply(
                        live, IsolationTests.shell("finance", "plain", "exec sleep 3600")
                    ).status == 200)
                var id = ""
                #expect(
                    try await eventually(.seconds(30)) {
                        id = try await Self.instances(live, "reader").first?["id"] as? String ?? ""
                        return Self.seen(agents, id).count == 3
                    }, "\(agents.map(\.output).joined())")
                let seen = Self.seen(agents, id)
                #expect(seen[0] == Self.sha256(value), "the mounted file holds the value")
                #expect(seen[1] == Self.sha256(value), "the environment variable holds the value")
                let uid =
                    try await live.call(.GET, "/v1/ministries/health", token: live.operatorToken).json
                    .flatMap { (($0 as? [String: Any])?["status"] as? [String: Any])?["runAs"] as? [String: Any] }?[
                        "uid"] as? Int
                #expect(seen[2] == "400 \(uid ?? -1)", "0400, owned by the ministry's uid")

                // The assignments: only the node running the reader receives the secret.
                let readerNode = try await Self.instances(live, "reader").first?["node"] as? String ?? ""
                for agent in agents {
                    let client = try TansiqClient(
                        server: live.baseURL, trust: .caFile(agent.dataDir + "/ca.crt"),
                        identity: try .files(certificate: agent.dataDir + "/node.crt", key: agent.dataDir + "/node.key")
                    )
                    let answer = try await client.send(.GET, "/v1/agent/nodes/\(agent.name)/assignments?after=0&wait=0")
                    await client.shutdown()
                    let carries = answer.text.contains(Data(value.utf8).base64EncodedString())
                    #expect(carries == (agent.name == readerNode), "\(agent.name): \(carries)")
                }

                // Nowhere else.
                let encoded = Data(value.utf8).base64EncodedString()
                func holds(_ text: String) -> Bool { text.contains(value) || text.contains(encoded) }
                for file in ["tansiq.db", "tansiq.db-wal"] {
                    let bytes = FileManager.default.contents(atPath: live.dataDir + "/" + file) ?? Data()
                    #expect(!holds(String(decoding: bytes, as: UTF8.self)), "\(file) holds the value")
                }
                #expect(!holds(live.stderr), "the controller's log")
                for agent in agents {
                    #expect(!holds(agent.output), "\(agent.name)'s log")
                    let state = FileManager.default.contents(atPath: agent.dataDir + "/state.json") ?? Data()
                    #expect(!holds(String(decoding: state, as: UTF8.self)), "\(agent.name)'s state.json")
                    #expect(!holds(IsolationTests.output(agent, id)), "the instance's output")
                }
                let paths = [
                    "/v1/ministries/health/secrets", "/v1/ministries/health/secrets/db",
                    "/v1/ministries/health/applications", "/v1/ministries/health/applications/reader", "/v1/instances",
                    "/v1/events", "/v1/snapshot", "/v1/audit?limit=5000", "/v1/ministries", "/v1/quotas",
                ]
                for token in try await Self.tokens(live) {
                    for path in paths {
                        let reply = try await live.call(.GET, path, token: token)
                        #expect(!holds(reply.body), "\(path) answers the value")
                    }
                }
                for args in [
                    ["get", "secrets", "-m", "health", "-o", "yaml"],
                    ["get", "secret", "db", "-m", "health", "-o", "json"],
                    ["get", "app", "reader", "-m", "health", "-o", "yaml"], ["get", "secrets", "-A"],
                ] {
                    let got = try await Self.tansiq(args, live)
                    #expect(got.status == 0 && !holds(got.stdout), "\(args): \(got.stderr)")
                }
                // get -o yaml applies back without values: unchanged, the values as they were.
                let yaml = try await Self.tansiq(["get", "secret", "db", "-m", "health", "-o", "yaml"], live).stdout
                let back = try await Self.tansiq(["apply", "-f", "-"], live, stdin: yaml)
                #expect(back.status == 0 && back.stdout.contains("Secret/health/db unchanged"), "\(back.stderr)")
                #expect(Self.seen(agents, id).first == Self.sha256(value))
                // The audit log names the keys, never the values.
                let audit = try await live.call(.GET, "/v1/audit?limit=5000", token: live.operatorToken).items
                let record = audit.first { $0["object"] as? String == "Secret/health/db" }
                #expect((record?["message"] as? String)?.contains("added password, tls.key") == true, "\(audit)")

                // In use: deleting is refused, unless forced.
                let refused = try await live.call(
                    .DELETE, "/v1/ministries/health/secrets/db", token: live.operatorToken)
                #expect(refused.status == 409, "\(refused.body)")
                #expect(refused.body.contains("reader"))
                let viewer = try await Self.tokens(live)[3]
                #expect(
                    try await live.call(.DELETE, "/v1/ministries/health/secrets/db?force=true", token: viewer).status
                        == 403)
                // The tmpfs is on the node while the instance runs, and gone once it stops.
                let mounts = { procText("/proc/mounts") }
                let node = try #require(agents.first { $0.name == readerNode })
                #expect(mounts().contains("\(node.dataDir)/secrets/\(id)/db"), "the secret is on a tmpfs of its own")
                #expect(
                    try await live.call(
                        .DELETE, "/v1/ministries/health/applications/reader", token: live.operatorToken
                    ).status == 200)
                #expect(
                    try await eventually(.seconds(20)) {
                        !mounts().contains("\(node.dataDir)/secrets/")
                            && !FileManager.default.fileExists(atPath: node.dataDir + "/secrets/\(id)")
                    },
                    "the mount is cleared when the instance stops: \(mounts().split(separator: "\n").filter { $0.contains(node.dataDir) })"
                )
            } catch {
                Issue.record(error)
            }
            for agent in agents { await agent.shutdown() }
        }
    }

    @Test("a ministry's application naming another ministry's secret is refused at apply with the file's position")
    func otherMinistrysSecret() async throws {
        try await LiveController.with { live in
            #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
            let made = try await Self.tansiq(
                ["secret", "create", "db", "-m", "health", "--from-literal", "password=x"], live)
            #expect(made.status == 0, "\(made.stderr)")
            let file = live.dataDir + "-finance.yaml"
            try Self.reader("finance", "thief").write(toFile: file, atomically: true, encoding: .utf8)
            let refused = try await Self.tansiq(["apply", "-f", file], live)
            #expect(refused.status == 2, "\(refused.stdout)")
            #expect(
                refused.stderr.contains(
                    "\(file):9:33: error: spec.run.env.DB_PASSWORD.secret: \"db\" is not a secret of ministry finance"),
                "\(refused.stderr)")
            #expect(refused.stderr.contains("\(file):10:20: error: spec.secrets[0].name: \"db\" is not a secret"))
            #expect(!refused.stderr.contains("health"), "nothing says another ministry has one")
            // The API refuses it too (a client that skips the check), naming the place.
            let api = try await live.call(
                .POST, "/v1/apply", token: live.operatorToken, body: Self.reader("finance", "thief"),
                contentType: "application/yaml")
            #expect(api.status == 400 && api.body.contains("spec.secrets[0].name"), "\(api.body)")
            #expect(
                try await live.call(.GET, "/v1/ministries/finance/applications/thief", token: live.operatorToken).status
                    == 404)
            // Values that are not what a secret holds are refused where they are.
            let bad = """
                apiVersion: tansiq/v1
                kind: Secret
                metadata: {name: bad, ministry: health}
                spec:
                  data: {"no/slash": x, good: "base64:***"}
                """
            let invalid = try await live.call(
                .POST, "/v1/apply", token: live.operatorToken, body: bad, contentType: "application/yaml")
            #expect(invalid.status == 400, "\(invalid.body)")
            #expect(invalid.body.contains("is not a valid key") && invalid.body.contains("not valid base64"))
            try? FileManager.default.removeItem(atPath: file)
        }
    }

    @Test(
        "a changed secret rolls its application out (new ids, within the update bounds) or changes the files in place, and the key rotates with instances running"
    )
    func changesAndRotation() async throws {
        try await LiveController.with(arguments: ["--grace-period", "30s"]) { live in
            let agents = [try await LiveAgent(live, name: "secret-c", zone: "z1", ports: 22400...22449)]
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                let first = "v1-" + UUID().uuidString
                _ = try await Self.tansiq(
                    ["secret", "create", "db", "-m", "health", "--from-literal", "password=\(first)"], live)
                #expect(
                    try await LiveControllerTests.apply(live, Self.reader("health", "rolling", replicas: 2)).status
                        == 200)
                #expect(
                    try await LiveControllerTests.apply(
                        live, Self.reader("health", "inplace", restart: false, env: false)
                    ).status
                        == 200)
                func ids(_ app: String) async throws -> Set<String> {
                    Set(try await Self.instances(live, app).compactMap { $0["id"] as? String })
                }
                #expect(
                    try await eventually(.seconds(30)) {
                        let all = try await ids("rolling").union(try await ids("inplace"))
                        return all.count == 3 && all.allSatisfy { Self.seen(agents, $0).first == Self.sha256(first) }
                    })
                let rollingBefore = try await ids("rolling")
                let inplaceBefore = try await ids("inplace")

                let second = "v2-" + UUID().uuidString
                let changed = try await Self.tansiq(
                    ["secret", "create", "db", "-m", "health", "--from-literal", "password=\(second)"], live)
                #expect(changed.stdout == "Secret/health/db configured\n", "\(changed.stderr)")
                var most = 0
                #expect(
                    try await eventually(.seconds(60)) {
                        let now = try await ids("rolling")
                        most = max(most, now.count)
                        return now.count == 2 && now.isDisjoint(with: rollingBefore)
                            && now.allSatisfy { Self.seen(agents, $0).first == Self.sha256(second) }
                    }, "the application rolls out to new instances with the new value")
                #expect(most <= 3, "replicas + maxSurge at most: \(most)")
                // restartOnChange: false — the same instance, its file changed in place.
                #expect(
                    try await eventually(.seconds(10)) {
                        try await ids("inplace") == inplaceBefore
                            && Self.seen(agents, inplaceBefore.first!).first == Self.sha256(second)
                    })

                // Rotation, instances running: the old key's file is gone, every value still opens.
                let oldKey = try Data(contentsOf: URL(fileURLWithPath: live.dataDir + "/secrets.key"))
                let rotated = try await run(
                    "tansiq-controller",
                    ["rotate-secrets-key", "--data-dir", live.dataDir, "--server", live.baseURL])
                #expect(rotated.status == 0, "\(rotated.stderr)")
                #expect(rotated.stdout.contains("1 of 1 secret(s) rewrapped"), "\(rotated.stdout)")
                let newKey = try Data(contentsOf: URL(fileURLWithPath: live.dataDir + "/secrets.key"))
                #expect(newKey != oldKey && newKey.count == 32)
                #expect(!FileManager.default.fileExists(atPath: live.dataDir + "/secrets.key.next"))
                for file in try FileManager.default.contentsOfDirectory(atPath: live.dataDir) {
                    let bytes = FileManager.default.contents(atPath: live.dataDir + "/" + file) ?? Data()
                    #expect(bytes.range(of: oldKey) == nil, "\(file) still holds the old key")
                }
                // A restarted controller opens them with the new key alone; a new instance gets the value.
                try await live.stop()
                try await live.start()
                #expect(
                    try await LiveControllerTests.apply(
                        live, Self.reader("health", "inplace", restart: false, replicas: 2, env: false)
                    ).status == 200)
                #expect(
                    try await eventually(.seconds(30)) {
                        let fresh = try await ids("inplace").subtracting(inplaceBefore)
                        return fresh.count == 1 && Self.seen(agents, fresh.first!).first == Self.sha256(second)
                    }, "\(live.stderr.suffix(1000))")
                #expect(Self.seen(agents, inplaceBefore.first!).first == Self.sha256(second), "still readable")
                // Rotating with no key prepared and no leader's file: refused, nothing changed.
                let refused = try await live.call(
                    .POST, "/v1/secrets/rotate-key", token: live.operatorToken, body: "{}")
                #expect(refused.status == 409, "\(refused.body)")
            } catch {
                Issue.record(error)
            }
            for agent in agents { await agent.shutdown() }
        }
    }

    @Test("on PostgreSQL too, the database never holds a value in clear (pg_dump)")
    func postgresDump() async throws {
        let postgres = try await LivePostgres.shared.value
        let url = try await postgres.database()
        let controllers = try await LiveController.cluster(count: 1, store: url)
        let live = controllers[0]
        do {
            let value = "pg-" + UUID().uuidString
            #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
            let made = try await Self.tansiq(
                ["secret", "create", "db", "-m", "health", "--from-literal", "password=\(value)"], live)
            #expect(made.status == 0, "\(made.stderr)")
            let dump = try await postgres.dump(String(url.split(separator: "/").last!))
            #expect(dump.contains("Secret/health/db"), "the dump holds the secret's row and audit record")
            #expect(!dump.contains(value) && !dump.contains(Data(value.utf8).base64EncodedString()))
        } catch {
            Issue.record(error)
        }
        await live.shutdown()
    }
}
