import Foundation
import TansiqTestSupport
import Testing
import X509

/// The agent protocol against the real binary, over real mutual TLS.
@Suite("Agent protocol over mutual TLS", .serialized)
struct LiveAgentTests {
    static func bootstrap(_ live: LiveController, ttl: String = "1h") async throws -> (id: String, token: String) {
        let reply = try await live.call(
            .POST, "/v1/bootstrap-tokens", token: live.operatorToken, body: #"{"ttl": "\#(ttl)"}"#)
        let json = reply.json as? [String: Any]
        guard reply.status == 201, let id = json?["id"] as? String, let token = json?["token"] as? String else {
            throw LiveError.failed("bootstrap token: \(reply.body)")
        }
        return (id, token)
    }

    @Test("join with a good, an expired and a revoked token; the same name twice; a CSR for another name")
    func joins() async throws {
        try await LiveController.with { live in
            let a = live.node("node-a")
            let joined = try await a.join(token: live.bootstrapToken, labels: ["zone": "z1"])
            #expect(joined.status == 201, "\(joined.body)")
            let certificate = try Certificate(pemEncoded: a.certificatePEM)
            #expect(certificate.subject.description.contains("CN=node-a"))
            let days = certificate.notValidAfter.timeIntervalSince(Date()) / 86400
            #expect(days > 89 && days <= 90.1)
            let ca = (joined.json as? [String: Any])?["caCertificate"] as? String
            #expect(ca == (try String(contentsOfFile: live.dataDir + "/ca.crt", encoding: .utf8)))

            let again = try await live.node("node-a").join(token: live.bootstrapToken)
            #expect(again.status == 409)
            #expect(again.errorCode == "conflict")

            let (revokedID, revoked) = try await Self.bootstrap(live)
            #expect(try await live.call(.DELETE, "/v1/tokens/\(revokedID)", token: live.operatorToken).status == 200)
            #expect(try await live.node("node-b").join(token: revoked).status == 401)
            let (_, brief) = try await Self.bootstrap(live, ttl: "1s")
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await live.node("node-b").join(token: brief).status == 401)
            #expect(try await live.node("node-b").join(token: live.operatorToken).status == 401)

            let c = live.node("node-c")
            let wrongName = try await c.join(
                token: live.bootstrapToken, csr: try c.csr(commonName: "node-x"))
            #expect(wrongName.status == 400)
            let badLabel = try await c.join(token: live.bootstrapToken, labels: ["bad key": "x"])
            #expect(badLabel.status == 400)
            let (_, fresh) = try await Self.bootstrap(live)
            #expect(try await c.join(token: fresh).status == 201, "a token serves many nodes")

            let nodes = try await live.call(.GET, "/v1/nodes", token: live.operatorToken)
            #expect(nodes.items.map { $0["name"] as? String } == ["node-a", "node-c"])
            #expect(nodes.items.first?["phase"] as? String == "Joining")
            let audit = try await live.call(.GET, "/v1/audit?limit=1000", token: live.operatorToken)
            let joins = audit.items.filter { $0["action"] as? String == "join" }
            #expect(joins.filter { $0["result"] as? String == "created" }.count == 2)
            #expect(joins.contains { $0["result"] as? String == "conflict" })
            await a.shutdown()
            await c.shutdown()
        }
    }

    @Test("agent paths: no certificate 401, another node's certificate 403, renewal gives a working certificate")
    func mutualTLS() async throws {
        try await LiveController.with { live in
            let a = live.node("node-a")
            let b = live.node("node-b")
            #expect(try await a.join(token: live.bootstrapToken).status == 201)
            #expect(try await b.join(token: live.bootstrapToken).status == 201)
            #expect(try await a.call(.PUT, "/v1/agent/nodes/node-a/status", json: SimulatedNode.status()).status == 200)
            #expect(try await a.call(.PUT, "/v1/agent/nodes/node-b/status", json: SimulatedNode.status()).status == 403)
            #expect(try await a.call(.GET, "/v1/agent/nodes/node-b/assignments?wait=0").status == 403)
            let anonymous = try await live.call(.GET, "/v1/agent/nodes/node-a/assignments?wait=0", token: nil)
            #expect(anonymous.status == 401)
            #expect(
                try await live.call(.PUT, "/v1/agent/nodes/node-a/status", token: live.operatorToken, body: "{}").status
                    == 401, "a person's token is not a node's certificate")

            let renewed = try await a.call(.POST, "/v1/agent/nodes/node-a/renew", json: ["csr": try a.csr()])
            #expect(renewed.status == 200, "\(renewed.body)")
            let pem = (renewed.json as? [String: Any])?["certificate"] as? String ?? ""
            #expect(pem != a.certificatePEM)
            try await a.adopt(pem)
            #expect(try await a.call(.PUT, "/v1/agent/nodes/node-a/status", json: SimulatedNode.status()).status == 200)
            let foreign = try await a.call(
                .POST, "/v1/agent/nodes/node-a/renew", json: ["csr": try a.csr(commonName: "node-b")])
            #expect(foreign.status == 400)

            let node = try await live.call(.GET, "/v1/nodes/node-a", token: live.operatorToken)
            #expect((node.json as? [String: Any])?["phase"] as? String == "Ready")
            let bad = try await a.call(
                .PUT, "/v1/agent/nodes/node-a/status",
                json: SimulatedNode.status(instances: [["id": "x", "phase": "Lost"]]))
            #expect(bad.status == 400)
            await a.shutdown()
            await b.shutdown()
        }
    }

    @Test("1,000 identical statuses write nothing to disk")
    func identicalStatusesWriteNothing() async throws {
        // The audit checkpoint is a write of its own (the join's record signed after a minute): a
        // loaded machine can take that long over 1,000 statuses, so it is put out of reach.
        try await LiveController.with(arguments: ["--audit-checkpoint", "1h"]) { live in
            let a = live.node("node-a")
            #expect(try await a.join(token: live.bootstrapToken).status == 201)
            let status = SimulatedNode.status(labels: ["zone": "z1"])
            #expect(try await a.call(.PUT, "/v1/agent/nodes/node-a/status", json: status).status == 200)
            try await Task.sleep(for: .milliseconds(200))  // the first status's batch is committed
            let commits = try await Self.commits(live)
            let wal = live.dataDir + "/tansiq.db-wal"
            let walBefore = try FileManager.default.attributesOfItem(atPath: wal)
            let ioBefore = Self.writeBytes(live)
            for _ in 0..<1000 {
                #expect(try await a.call(.PUT, "/v1/agent/nodes/node-a/status", json: status).status == 200)
            }
            let walAfter = try FileManager.default.attributesOfItem(atPath: wal)
            #expect(try await Self.commits(live) == commits, "no commit")
            #expect(walAfter[.size] as? Int == walBefore[.size] as? Int)
            #expect(walAfter[.modificationDate] as? Date == walBefore[.modificationDate] as? Date)
            if let before = ioBefore, let after = Self.writeBytes(live) {
                #expect(after == before, "the controller wrote \(after - before) bytes to storage")
            }
            await a.shutdown()
        }
    }

    @Test("statuses from 200 nodes at once all succeed")
    func manyNodes() async throws {
        try await LiveController.with { live in
            let nodes = (0..<200).map { live.node("sim-\($0)") }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for node in nodes {
                    group.addTask { try await node.join(token: live.bootstrapToken).status }
                }
                for try await status in group { #expect(status == 201, "\(live.stderr.suffix(600))") }
            }
            for round in 0..<3 {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for node in nodes {
                        group.addTask {
                            try await node.call(
                                .PUT, "/v1/agent/nodes/\(node.name)/status",
                                json: SimulatedNode.status(labels: ["zone": "z\(round)"])
                            ).status
                        }
                    }
                    for try await status in group { #expect(status == 200) }
                }
            }
            let list = try await live.call(.GET, "/v1/nodes", token: live.operatorToken)
            #expect(list.items.count == 200)
            let metrics = try await live.call(.GET, "/metrics", token: live.operatorToken).body
            #expect(metrics.contains(#"tansiq_nodes{phase="Ready"} 200"#))
            #expect(metrics.contains("tansiq_agent_status_updates_total 600"))
            #expect(list.items.allSatisfy { $0["phase"] as? String == "Ready" })
            try await Task.sleep(for: .milliseconds(100))
            let capacity = try await live.call(.GET, "/v1/capacity", token: live.operatorToken)
            let total = (capacity.json as? [String: Any])?["total"] as? [String: Any]
            #expect(total?["nodes"] as? Int == 200)
            #expect((total?["allocatable"] as? [String: Any])?["cpu"] as? String == "800")
            for node in nodes { await node.shutdown() }
        }
    }

    @Test("a long poll returns within 100 ms of the change that places an instance, and times out unchanged")
    func longPoll() async throws {
        try await LiveController.with { live in
            let a = live.node("node-a")
            #expect(
                try await a.join(token: live.bootstrapToken, labels: ["zone": "z1"]).status == 201)
            let ready = SimulatedNode.status(labels: ["zone": "z1"])
            #expect(try await a.call(.PUT, "/v1/agent/nodes/node-a/status", json: ready).status == 200)
            #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
            let first = try await a.call(.GET, "/v1/agent/nodes/node-a/assignments?after=0&wait=5")
            let version = (first.json as? [String: Any])?["resourceVersion"] as? Int ?? -1
            #expect((first.json as? [String: Any])?["instances"] as? [Any] != nil)

            let start = ContinuousClock.now
            let idle = try await a.call(.GET, "/v1/agent/nodes/node-a/assignments?after=\(version)&wait=1")
            let waited = ContinuousClock.now - start
            #expect(waited >= .milliseconds(950) && waited < .seconds(3), "\(waited)")
            #expect((idle.json as? [String: Any])?["resourceVersion"] as? Int == version)

            let poll = Task {
                let reply = try await a.call(.GET, "/v1/agent/nodes/node-a/assignments?after=\(version)&wait=30")
                return (reply, ContinuousClock.now)
            }
            try await Task.sleep(for: .milliseconds(200))
            let applied = try await LiveControllerTests.apply(live, Harness.app("health", "portal", replicas: 1))
            let appliedAt = ContinuousClock.now
            #expect(applied.status == 200)
            let (reply, returnedAt) = try await poll.value
            #expect(returnedAt - appliedAt < .milliseconds(100), "\(returnedAt - appliedAt)")
            let json = reply.json as? [String: Any]
            #expect((json?["resourceVersion"] as? Int ?? 0) > version)
            let assigned = json?["instances"] as? [[String: Any]] ?? []
            #expect(assigned.count == 1)
            #expect(assigned.first?["application"] as? String == "portal")
            #expect((assigned.first?["run"] as? [String: Any])?["command"] as? [String] == ["/bin/sleep", "1000"])

            let id = assigned.first?["id"] as? String ?? ""
            let running = SimulatedNode.status(
                labels: ["zone": "z1"],
                instances: [
                    ["id": id, "phase": "Running", "restarts": 0, "ports": ["http": 31000]],
                    ["id": "someone-else-1", "phase": "Running"],
                ])
            #expect(try await a.call(.PUT, "/v1/agent/nodes/node-a/status", json: running).status == 200)
            try await Task.sleep(for: .milliseconds(150))
            let instances = try await live.call(.GET, "/v1/instances?node=node-a", token: live.operatorToken)
            #expect(instances.items.count == 1)
            #expect(instances.items.first?["phase"] as? String == "Running")
            #expect(instances.items.first?["guaranteed"] as? Bool == true)

            let removal = try await live.call(.DELETE, "/v1/nodes/node-a", token: live.operatorToken)
            #expect(removal.status == 409, "a node holding instances is not removed")
            #expect(try await live.call(.POST, "/v1/nodes/node-a/cordon", token: live.operatorToken).status == 200)
            let patched = try await live.call(
                .PATCH, "/v1/nodes/node-a", token: live.operatorToken,
                body:
                    #"{"labels": {"zone": "z9", "disk": "ssd"}, "taints": [{"key": "dedicated", "value": "health", "effect": "NoSchedule"}]}"#
            )
            #expect(patched.status == 200, "\(patched.body)")
            let node = try await live.call(.GET, "/v1/nodes/node-a", token: live.operatorToken).json as? [String: Any]
            #expect(node?["cordoned"] as? Bool == true)
            #expect((node?["labels"] as? [String: String])?["zone"] == "z9", "the operator's label wins")
            #expect((node?["agentLabels"] as? [String: String])?["zone"] == "z1")
            #expect((node?["allocated"] as? [String: Any])?["cpu"] as? String == "250m")
            let viewer = try await LiveControllerTests.token(live, role: "ministry-viewer", subject: "v")
            #expect(try await live.call(.POST, "/v1/nodes/node-a/uncordon", token: viewer).status == 403)
            #expect(try await live.call(.GET, "/v1/nodes", token: viewer).status == 200)
            await a.shutdown()
        }
    }

    /// Commits so far, from the controller's metrics.
    static func commits(_ live: LiveController) async throws -> Int {
        let metrics = try await live.call(.GET, "/metrics", token: live.operatorToken).body
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("tansiq_store_commit_seconds_count") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// Bytes the controller process caused to be written to storage (Linux), if readable.
    static func writeBytes(_ live: LiveController) -> Int? {
        guard let pid = live.pid, let io = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) else {
            return nil
        }
        return io.split(separator: "\n").first { $0.hasPrefix("write_bytes:") }
            .flatMap { Int($0.split(separator: " ").last ?? "") }
    }
}
