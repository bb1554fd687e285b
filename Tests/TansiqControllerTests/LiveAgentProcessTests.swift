import AsyncHTTPClient
import Foundation
import NIOCore
import TansiqTestSupport
import Testing

/// Real agents running real processes, against a real controller, on loopback.
@Suite("Agents run real workloads", .serialized)
struct LiveAgentProcessTests {
    static let demo = productsDirectory.appendingPathComponent("tansiq-demo-service").path

    static func app(
        _ name: String, replicas: Int, extra: String = "", memory: String = "64Mi", args: String = ""
    ) -> String {
        """
        apiVersion: tansiq/v1
        kind: Application
        metadata: {name: \(name), ministry: health}
        spec:
          replicas: \(replicas)
          resources: {cpu: 100m, memory: \(memory)}
          run: {command: ["\(demo)", "--name", "\(name)"\(args)]}
          ports: [{name: http, port: 0}]
          health: {http: {path: /healthz, port: http}, interval: 500ms, timeout: 2s}\(extra)
        """
    }

    /// Starts `count` agents in zones z0, z1, ... with their own port ranges.
    static func agents(_ live: LiveController, _ count: Int) async throws -> [LiveAgent] {
        var agents: [LiveAgent] = []
        for index in 0..<count {
            agents.append(
                try await LiveAgent(
                    live, name: "agent-\(index)", zone: "z\(index)",
                    ports: (21000 + index * 100)...(21099 + index * 100)
                ))
        }
        return agents
    }

    /// The demo service's answer on a port, if it answers.
    static func whoIsOn(_ port: Int, _ http: HTTPClient) async -> [String: String]? {
        for _ in 0..<3 {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/")
            request.method = .GET
            request.headers.add(name: "Connection", value: "close")
            if let response = try? await http.execute(request, timeout: .seconds(2)),
                let body = try? await response.body.collect(upTo: 1 << 16)
            {
                return try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: String]
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    static func instances(_ live: LiveController) async throws -> [[String: Any]] {
        try await live.call(.GET, "/v1/instances", token: live.operatorToken).items
    }

    static func healthy(_ live: LiveController, _ count: Int) async throws -> Bool {
        try await eventually(.seconds(20)) {
            try await instances(live).filter { $0["phase"] as? String == "Healthy" }.count == count
        }
    }

    @Test("three agents run an application spread over zones; agents and controller restart without restarting it")
    func spreadAndRestarts() async throws {
        try await LiveController.with(arguments: ["--grace-period", "3s"]) { live in
            let agents = try await Self.agents(live, 3)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                // Every zone has a Ready node before the application is spread over them.
                #expect(
                    try await eventually(.seconds(10)) {
                        try await live.call(.GET, "/v1/nodes", token: live.operatorToken).items
                            .filter { $0["phase"] as? String == "Ready" }.count == 3
                    })
                let app = Self.app("portal", replicas: 3, extra: "\n  placement: {spread: zone}")
                #expect(try await LiveControllerTests.apply(live, app).status == 200)
                #expect(try await Self.healthy(live, 3), "\(agents.map(\.output).joined())")
                // "started" is unique to each start of an instance's process (its pid is 1 in its
                // own pid namespace).
                var pids: [String: String] = [:]
                let placed = try await Self.instances(live)
                #expect(Set(placed.compactMap { $0["node"] as? String }).count == 3, "one per zone")
                for instance in placed {
                    let port = (instance["ports"] as? [String: Int])?["http"] ?? 0
                    let answer = await Self.whoIsOn(port, http)
                    #expect(answer?["instance"] == instance["id"] as? String, "port \(port)")
                    pids[instance["id"] as? String ?? ""] = answer?["started"]
                }
                // kill -9 an agent and start it again: its instances are adopted, not restarted.
                await agents[0].stop(signal: SIGKILL)
                try agents[0].start()
                try await Task.sleep(for: .seconds(2))
                // Stop the controller: instances keep running. Start it: nothing restarts.
                try await live.stop()
                for instance in placed {
                    let port = (instance["ports"] as? [String: Int])?["http"] ?? 0
                    #expect(await Self.whoIsOn(port, http)?["started"] == pids[instance["id"] as? String ?? ""])
                }
                try await Task.sleep(for: .seconds(2))
                try await live.start()
                #expect(
                    try await eventually(.seconds(10)) {
                        try await live.call(.GET, "/v1/nodes", token: live.operatorToken).items
                            .allSatisfy { $0["phase"] as? String == "Ready" }
                    })
                #expect(try await Self.healthy(live, 3))
                for instance in try await Self.instances(live) {
                    let port = (instance["ports"] as? [String: Int])?["http"] ?? 0
                    #expect(
                        await Self.whoIsOn(port, http)?["started"] == pids[instance["id"] as? String ?? ""],
                        "not restarted"
                    )
                    #expect(instance["restarts"] as? Int == 0)
                }
                #expect(agents[0].output.contains("adopted=1"))
            } catch {
                Issue.record(error)
            }
            try? await http.shutdown()
            for agent in agents { await agent.shutdown() }
        }
    }

    @Test("an agent killed with -9: its instance is replaced elsewhere; back, its stale instance is stopped")
    func killedAgent() async throws {
        try await LiveController.with(arguments: ["--grace-period", "3s"]) { live in
            let agents = try await Self.agents(live, 3)
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                let app = Self.app("portal", replicas: 2, extra: "\n  placement: {maxPerNode: 1}")
                #expect(try await LiveControllerTests.apply(live, app).status == 200)
                #expect(try await Self.healthy(live, 2))
                let first = try await Self.instances(live)
                let victimNode = first[0]["node"] as? String ?? ""
                let victimID = first[0]["id"] as? String ?? ""
                let victim = agents.first { $0.name == victimNode }!
                let stalePid = victim.instancePids[victimID] ?? 0
                await victim.stop(signal: SIGKILL)
                let killedAt = ContinuousClock.now
                #expect(
                    try await eventually(.seconds(15)) {
                        let all = try await Self.instances(live)
                        return all.contains { $0["id"] as? String == victimID && $0["phase"] as? String == "Lost" }
                            && all.filter { $0["phase"] as? String == "Healthy" && $0["node"] as? String != victimNode }
                                .count == 2
                    })
                #expect(ContinuousClock.now - killedAt < .seconds(13), "within grace + 10 s")
                #expect(HostFacts.isRunning(stalePid), "the instance outlived its agent")
                try victim.start()
                #expect(
                    try await eventually(.seconds(15)) { !HostFacts.isRunning(stalePid) },
                    "the returning agent stops its lost instance")
                let running = agents.flatMap { $0.instancePids.keys }
                #expect(Set(running).count == running.count, "no instance id runs twice")
                #expect(!running.contains(victimID))
            } catch {
                Issue.record(error)
            }
            for agent in agents { await agent.shutdown() }
        }
    }

    @Test(
        "an instance that exceeds its memory limit is reported OOMKilled",
        .enabled(if: HostFacts.hasMemoryCgroup, "this machine gives the agent no writable memory cgroup"))
    func oomKilled() async throws {
        try await LiveController.with(arguments: ["--grace-period", "3s"]) { live in
            let agents = try await Self.agents(live, 1)
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                let app =
                    Self.app("leaky", replicas: 1, memory: "48Mi", args: #", "--leak-memory", "16""#)
                    + "\n  restart: {policy: never}"
                #expect(try await LiveControllerTests.apply(live, app).status == 200)
                #expect(
                    try await eventually(.seconds(20)) {
                        try await Self.instances(live).first?["phase"] as? String == "OOMKilled"
                    }, "\(agents[0].output)")
                let message = try await Self.instances(live).first?["message"] as? String
                #expect(message?.contains("memory limit") == true)
            } catch {
                Issue.record(error)
            }
            for agent in agents { await agent.shutdown() }
        }
    }

    @Test(
        "a rollout over real processes never drops below 3 healthy; one that never turns healthy fails and keeps the old"
    )
    func rollout() async throws {
        try await LiveController.with(arguments: ["--grace-period", "30s"]) { live in
            let agents = try await Self.agents(live, 2)
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                let update = "\n  update: {maxSurge: 1, maxUnavailable: 0, progressDeadline: 6s}"
                #expect(
                    try await LiveControllerTests.apply(live, Self.app("portal", replicas: 3, extra: update)).status
                        == 200)
                #expect(try await Self.healthy(live, 3))
                let firstIDs = Set(try await Self.instances(live).compactMap { $0["id"] as? String })
                let v2 = Self.app("portal", replicas: 3, extra: update)
                    .replacingOccurrences(of: #""--name", "portal""#, with: #""--name", "portal-v2""#)
                #expect(try await LiveControllerTests.apply(live, v2).status == 200)
                var fewest = 3
                let done = try await eventually(.seconds(30)) {
                    let all = try await Self.instances(live)
                    fewest = min(fewest, all.filter { $0["phase"] as? String == "Healthy" }.count)
                    let app = try await live.call(
                        .GET, "/v1/ministries/health/applications/portal", token: live.operatorToken)
                    let status = (app.json as? [String: Any])?["status"] as? [String: Any]
                    return status?["rollout"] as? String == "Complete"
                }
                #expect(done)
                #expect(fewest >= 3, "maxUnavailable 0: saw \(fewest) healthy")
                let second = try await Self.instances(live)
                #expect(second.count == 3 && Set(second.compactMap { $0["id"] as? String }).isDisjoint(with: firstIDs))
                #expect(second.allSatisfy { $0["generation"] as? Int == 2 && $0["phase"] as? String == "Healthy" })
                // Generation 3 never turns healthy: the rollout fails at its deadline, generation 2 keeps serving.
                let broken = Self.app("portal", replicas: 3, extra: update, args: #", "--fail-health""#)
                #expect(try await LiveControllerTests.apply(live, broken).status == 200)
                let failed = try await eventually(.seconds(30)) {
                    let app = try await live.call(
                        .GET, "/v1/ministries/health/applications/portal", token: live.operatorToken)
                    return ((app.json as? [String: Any])?["status"] as? [String: Any])?["rollout"] as? String
                        == "Failed"
                }
                #expect(failed)
                let after = try await Self.instances(live)
                // None of generation 2 was taken down (their health may waver on a loaded machine; they stay).
                #expect(after.filter { $0["generation"] as? Int == 2 }.count == 3)
                #expect(after.filter { $0["generation"] as? Int == 3 }.count <= 1, "one surge instance at most")
                let events = try await live.call(
                    .GET, "/v1/events?kind=Application&name=portal", token: live.operatorToken)
                #expect(events.items.compactMap { $0["reason"] as? String }.contains("RolloutFailed"))
            } catch {
                Issue.record(error)
            }
            for agent in agents { await agent.shutdown() }
        }
    }

    @Test("cut off from the controller, an agent keeps instances running except those that ask to stop")
    func stopAfterDisconnect() async throws {
        try await LiveController.with(arguments: ["--grace-period", "30s"]) { live in
            let agents = try await Self.agents(live, 1)
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                #expect(try await LiveControllerTests.apply(live, Self.app("steady", replicas: 1)).status == 200)
                let singleton = Self.app("singleton", replicas: 1, extra: "\n  stopAfterDisconnect: 3s")
                #expect(try await LiveControllerTests.apply(live, singleton).status == 200)
                #expect(try await Self.healthy(live, 2))
                let before = agents[0].instancePids
                try await live.stop(signal: SIGKILL)
                let stopped = try await eventually(.seconds(30)) {
                    agents[0].instancePids.count == 1
                }
                #expect(
                    stopped,
                    "the singleton stops when cut off: \(agents[0].instancePids) \(agents[0].output.suffix(3000))")
                let steadyID = before.keys.first { $0.contains("steady") } ?? ""
                #expect(agents[0].instancePids[steadyID] == before[steadyID], "the other keeps running")
                try await live.start()
                #expect(try await eventually(.seconds(15)) { agents[0].instancePids.count == 2 })
                #expect(try await Self.healthy(live, 2))
            } catch {
                Issue.record(error)
            }
            for agent in agents { await agent.shutdown() }
        }
    }

    @Test("a wrong CA hash, a bad token and another node's certificate are refused with clear messages")
    func refusals() async throws {
        try await LiveController.with { live in
            let base = ["--server", live.baseURL, "--name", "x", "--data-dir", live.dataDir + "-x"]
            let wrongHash = try await run(
                "tansiq-agent",
                ["join", "--token", live.bootstrapToken, "--ca-hash", "sha256:" + String(repeating: "0", count: 64)]
                    + base)
            #expect(wrongHash.status == 1)
            #expect(wrongHash.stderr.contains("does not present a CA with hash"))
            #expect(wrongHash.stderr.contains("not sending the token"))
            let badToken = try await run(
                "tansiq-agent", ["join", "--token", "tq_nope.nope", "--ca-hash", try live.caHash()] + base)
            #expect(badToken.status == 1)
            #expect(badToken.stderr.contains("refused the bootstrap token"))
            let usage = try await run("tansiq-agent", ["join", "--token", "t"] + base)
            #expect(usage.status == 2)
            // A data directory holding node a's certificate, told it is node b: the controller says 403.
            let a = try await LiveAgent(live, name: "node-a", zone: "z1", ports: 21500...21599)
            let b = try await LiveAgent(live, name: "node-b", zone: "z1", ports: 21600...21699)
            await b.stop()
            for file in ["node.key", "node.crt"] {
                try? FileManager.default.removeItem(atPath: b.dataDir + "/" + file)
                try FileManager.default.copyItem(atPath: a.dataDir + "/" + file, toPath: b.dataDir + "/" + file)
            }
            try b.start()
            // The message itself, not "403" alone: the controller's port can hold those digits.
            #expect(try await eventually(.seconds(10)) { b.output.contains("node node-a's, not node node-b's") })
            #expect(b.output.contains("403"))
            await a.shutdown()
            await b.shutdown()
        }
    }
}
