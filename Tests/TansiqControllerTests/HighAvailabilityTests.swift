import AsyncHTTPClient
import Foundation
import TansiqAPI
import TansiqModel
import TansiqTestSupport
import Testing

/// Several controllers on one real PostgreSQL server, with real agents running real instances:
/// failover, fencing of a deposed leader, and the database restarted under load.
@Suite("Several controllers on PostgreSQL", .serialized)
struct HighAvailabilityTests {
    static let ttl = 3.0

    /// Three controllers on a fresh database of `server`, leases of `ttl` seconds.
    static func cluster(_ extra: [String] = [], server: LivePostgres? = nil) async throws -> [LiveController] {
        var postgres = server
        if postgres == nil { postgres = try await LivePostgres.shared.value }
        guard let postgres else { throw LiveError.failed("no PostgreSQL server") }
        return try await LiveController.cluster(
            count: 3, store: try await postgres.database(),
            arguments: ["--lease-ttl", "\(Int(ttl))s", "--log-level", "notice"] + extra)
    }

    /// The index of the controller that leads, once one does (all agree on it).
    static func leader(
        _ controllers: [LiveController], among alive: [Int], timeout: Duration = .seconds(20)
    )
        async throws -> Int?
    {
        var found: Int?
        _ = try await eventually(timeout) {
            found = nil
            var leaders: Set<String> = []
            for index in alive {
                guard let ready = await controllers[index].readiness() else { return false }
                leaders.insert(ready.leader)
                if ready.role == "leader" { found = index }
            }
            return found != nil && leaders.count == 1
        }
        return found
    }

    static func application(_ name: String, replicas: Int = 0) -> String {
        """
        apiVersion: tansiq/v1
        kind: Application
        metadata: {name: \(name), ministry: health}
        spec:
          replicas: \(replicas)
          resources: {cpu: 10m, memory: 16Mi}
          run: {command: ["\(LiveAgentProcessTests.demo)", "--name", "\(name)"]}
          ports: [{name: http, port: 0}]
          health: {http: {path: /healthz, port: http}, interval: 500ms, timeout: 2s}
        """
    }

    /// Applies one small application after another through `client` until `stop`, recording the
    /// names the controllers acknowledged.
    final class Writers: Sendable {
        let acknowledged = Locked<[String]>([])
        let refused = Locked(0)
        let stop = Locked(false)

        func run(_ clients: [TansiqClient]) async {
            await withTaskGroup(of: Void.self) { group in
                for (index, client) in clients.enumerated() {
                    group.addTask {
                        var n = 0
                        while !self.stop.withLock({ $0 }) {
                            n += 1
                            let name = "load-\(index)-\(n)"
                            let reply = try? await client.send(
                                .POST, "/v1/apply", body: Data(HighAvailabilityTests.application(name).utf8),
                                contentType: "application/yaml", timeout: .seconds(20))
                            if reply?.status == 200 {
                                self.acknowledged.withLock { $0.append(name) }
                            } else {
                                self.refused.withLock { $0 += 1 }
                                try? await Task.sleep(for: .milliseconds(100))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Instances by id: node and the start stamp the demo service answers with (one per process start).
    static func running(_ live: LiveController, _ http: HTTPClient) async throws -> [String: String] {
        var started: [String: String] = [:]
        for instance in try await live.call(.GET, "/v1/instances?phase=Healthy", token: live.operatorToken).items {
            let port = (instance["ports"] as? [String: Int])?["http"] ?? 0
            started[instance["id"] as? String ?? ""] = await LiveAgentProcessTests.whoIsOn(port, http)?["started"]
        }
        return started
    }

    @Test(
        "kill -9 of the leader: a new leader within lease-ttl + 3 s, every acknowledged apply kept and audited, no id given twice, instances undisturbed, the killed controller back as a follower"
    )
    func failover() async throws {
        let controllers = try await Self.cluster(["--grace-period", "20s"])
        let urls = controllers.map(\.baseURL)
        var agents: [LiveAgent] = []
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var clients: [TansiqClient] = []
        do {
            let first = try #require(try await Self.leader(controllers, among: [0, 1, 2]))
            let live = controllers[(first + 1) % 3]  // through a follower
            for index in 0..<3 {
                agents.append(
                    try await LiveAgent(
                        live, name: "ha-\(index)", zone: "z\(index)",
                        ports: (21400 + index * 50)...(21449 + index * 50),
                        servers: Array(urls[index...] + urls[..<index])))
            }
            #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
            #expect(try await LiveControllerTests.apply(live, Self.application("portal", replicas: 3)).status == 200)
            #expect(
                try await eventually(.seconds(30)) { try await Self.running(live, http).count == 3 },
                "\(agents.map(\.output).joined())")
            let before = try await Self.running(live, http)
            let idsBefore = Set(before.keys)

            clients = try (0..<8).map { index in
                let order = Array(urls[(index % 3)...] + urls[..<(index % 3)])
                return try TansiqClient(
                    servers: order, trust: .caFile(live.dataDir + "/ca.crt"), token: live.operatorToken)
            }
            let writers = Writers()
            let writing = Task { await writers.run(clients) }
            try await Task.sleep(for: .seconds(3))
            let ackedBeforeKill = writers.acknowledged.withLock { $0.count }
            let killedAt = ContinuousClock.now
            try await controllers[first].stop(signal: SIGKILL)
            let alive = [0, 1, 2].filter { $0 != first }
            let watcher = Task {
                while !Task.isCancelled {
                    for index in alive where await controllers[index].readiness()?.role == "leader" {
                        return ContinuousClock.now - killedAt
                    }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return Duration.zero
            }
            // The first apply acknowledged after the kill marks the new leader serving.
            var servedAfter: Duration?
            _ = try await eventually(.seconds(Self.ttl + 10)) {
                if writers.acknowledged.withLock({ $0.count }) > ackedBeforeKill + 8 {
                    servedAfter = servedAfter ?? ContinuousClock.now - killedAt
                    return true
                }
                return false
            }
            let second = try #require(try await Self.leader(controllers, among: alive))
            let served = try #require(servedAfter, "no apply was acknowledged after the kill")
            #expect(served <= .seconds(Self.ttl + 3), "a new leader served after \(served)")
            print(
                "failover: first apply acknowledged \(served) after kill -9 of the leader (lease-ttl \(Self.ttl) s); /readyz said leader after \(await watcher.value)"
            )
            try await Task.sleep(for: .seconds(2))
            writers.stop.withLock { $0 = true }
            await writing.value

            // Every acknowledged apply is there, and audited.
            let acknowledged = Set(writers.acknowledged.withLock { $0 })
            #expect(acknowledged.count > 20)
            print(
                "failover: \(acknowledged.count) applies acknowledged, \(writers.refused.withLock { $0 }) refused or unanswered"
            )
            let now = controllers[second]
            let names = Set(
                try await now.call(.GET, "/v1/ministries/health/applications", token: now.operatorToken).items
                    .compactMap { $0["metadata"] as? [String: Any] }.compactMap { $0["name"] as? String })
            #expect(acknowledged.isSubset(of: names), "lost: \(acknowledged.subtracting(names).sorted())")
            var audited: Set<String> = []
            var after = 0
            while true {
                let page = try await now.call(.GET, "/v1/audit?after=\(after)&limit=5000", token: now.operatorToken)
                let items = page.items
                for record in items where record["action"] as? String == "apply" {
                    if let object = record["object"] as? String { audited.insert(object) }
                }
                guard let last = items.last?["seq"] as? Int, last > after else { break }
                after = last
            }
            let unaudited = acknowledged.filter { !audited.contains("Application/health/\($0)") }
            #expect(unaudited.isEmpty, "not audited: \(unaudited.sorted())")

            // The instances ran throughout: same processes; new ones get new ids.
            let afterFailover = try await Self.running(now, http)
            for (id, started) in before { #expect(afterFailover[id] == started, "\(id) restarted") }
            #expect(try await LiveControllerTests.apply(now, Self.application("portal", replicas: 5)).status == 200)
            #expect(try await eventually(.seconds(30)) { try await Self.running(now, http).count == 5 })
            let ids = try await now.call(.GET, "/v1/instances?application=portal", token: now.operatorToken).items
                .compactMap { $0["id"] as? String }
            #expect(ids.count == Set(ids).count)
            #expect(Set(ids).subtracting(idsBefore).count == 2, "two new ids, none reused")

            // The killed controller, started again, follows.
            try await controllers[first].start()
            #expect(
                try await eventually(.seconds(10)) {
                    let ready = await controllers[first].readiness()
                    return ready?.role == "follower" && ready?.leader == urls[second]
                })
            #expect(try await Self.leader(controllers, among: [0, 1, 2]) == second)
        } catch {
            Issue.record(error)
        }
        for client in clients { await client.shutdown() }
        try? await http.shutdown()
        for agent in agents { await agent.shutdown() }
        for controller in controllers { await controller.shutdown() }
    }

    @Test(
        "a leader frozen past its lease cannot commit when it wakes: it steps down, its stale view of the nodes changes nothing, and the instances run on"
    )
    func frozenLeaderIsFenced() async throws {
        let controllers = try await Self.cluster(["--grace-period", "10s"])
        let urls = controllers.map(\.baseURL)
        var agents: [LiveAgent] = []
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var frozen: Int32?
        do {
            let first = try #require(try await Self.leader(controllers, among: [0, 1, 2]))
            let live = controllers[first]
            for index in 0..<3 {
                agents.append(
                    try await LiveAgent(
                        live, name: "fence-\(index)", zone: "z\(index)",
                        ports: (21600 + index * 50)...(21649 + index * 50),
                        servers: Array(urls[index...] + urls[..<index])))
            }
            #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
            #expect(try await LiveControllerTests.apply(live, Self.application("portal", replicas: 3)).status == 200)
            #expect(try await eventually(.seconds(30)) { try await Self.running(live, http).count == 3 })
            let before = try await Self.running(live, http)

            // Frozen: it hears nothing, renews nothing. A write sent to it waits in its socket.
            let pid = try #require(live.pid)
            kill(pid, SIGSTOP)
            frozen = pid
            let stoppedAt = ContinuousClock.now
            let direct = try TansiqClient(
                server: live.baseURL, trust: .caFile(live.dataDir + "/ca.crt"), token: live.operatorToken)
            let inFlight = Task {
                try? await direct.send(
                    .POST, "/v1/apply", body: Data(Self.application("while-frozen").utf8),
                    contentType: "application/yaml", timeout: .seconds(40))
            }
            let alive = [0, 1, 2].filter { $0 != first }
            let second = try #require(try await Self.leader(controllers, among: alive))
            let now = controllers[second]
            #expect(try await now.readiness()?.epoch ?? 0 > 1)
            #expect(try await LiveControllerTests.apply(now, Self.application("during-freeze")).status == 200)
            // Past the frozen leader's grace period: to it, every node has been silent too long.
            let sleep = Duration.seconds(12) - (ContinuousClock.now - stoppedAt)
            if sleep > .zero { try await Task.sleep(for: sleep) }
            kill(pid, SIGCONT)
            frozen = nil
            #expect(
                try await eventually(.seconds(10)) {
                    let ready = await live.readiness()
                    return ready?.role == "follower" && ready?.leader == urls[second]
                }, "the deposed leader did not step down: \(live.stderr.suffix(2000))")
            #expect(live.stderr.contains("stepped down"))
            let answer = await inFlight.value
            await direct.shutdown()
            try await Task.sleep(for: .seconds(2))

            // Nothing it believed while frozen landed: nodes Ready, nothing lost, same processes.
            let nodes = try await now.call(.GET, "/v1/nodes", token: now.operatorToken).items
            #expect(nodes.count == 3 && nodes.allSatisfy { $0["phase"] as? String == "Ready" })
            let instances = try await now.call(.GET, "/v1/instances", token: now.operatorToken).items
            #expect(!instances.contains { $0["phase"] as? String == "Lost" })
            let after = try await Self.running(now, http)
            for (id, started) in before { #expect(after[id] == started, "\(id) restarted") }
            let events = try await now.call(.GET, "/v1/events?kind=Node", token: now.operatorToken).items
            #expect(!events.contains { $0["reason"] as? String == "NotReady" }, "\(events)")
            // The write that waited in its socket either landed acknowledged or not at all.
            let names = try await now.call(.GET, "/v1/ministries/health/applications", token: now.operatorToken).items
                .compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
            #expect((answer?.status == 200) == names.contains("while-frozen"), "answer \(answer?.status ?? 0)")
            #expect(names.contains("during-freeze"))
            if live.stderr.contains("not the leader") {
                print(
                    "fencing: the deposed leader's commits were refused: \(live.stderr.components(separatedBy: "\n").filter { $0.contains("not the leader") }.prefix(3))"
                )
            }
        } catch {
            Issue.record(error)
        }
        if let frozen { kill(frozen, SIGCONT) }
        try? await http.shutdown()
        for agent in agents { await agent.shutdown() }
        for controller in controllers { await controller.shutdown() }
    }

    @Test("PostgreSQL restarted under load: the controllers reconnect by themselves and no acknowledged write is lost")
    func databaseRestart() async throws {
        let server = try await LivePostgres()
        let controllers = try await Self.cluster(server: server)
        var clients: [TansiqClient] = []
        do {
            let first = try #require(try await Self.leader(controllers, among: [0, 1, 2]))
            let live = controllers[first]
            #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
            let pids = controllers.map(\.pid)
            clients = try (0..<4).map { index in
                try TansiqClient(
                    servers: Array(
                        controllers.map(\.baseURL)[(index % 3)...] + controllers.map(\.baseURL)[..<(index % 3)]),
                    trust: .caFile(live.dataDir + "/ca.crt"), token: live.operatorToken)
            }
            let writers = Writers()
            let writing = Task { await writers.run(clients) }
            try await Task.sleep(for: .seconds(2))
            server.stop()
            try await Task.sleep(for: .seconds(2))
            try server.start()
            #expect(try await server.ready(timeout: 30))
            let ackedAtRestart = writers.acknowledged.withLock { $0.count }
            #expect(
                try await eventually(.seconds(20)) { writers.acknowledged.withLock { $0.count } > ackedAtRestart + 20 },
                "no write was acknowledged after the database came back")
            writers.stop.withLock { $0 = true }
            await writing.value
            #expect(controllers.map(\.pid) == pids, "a controller restarted")
            guard let leader = try await Self.leader(controllers, among: [0, 1, 2]) else {
                var said: [String] = []
                for controller in controllers {
                    said.append(
                        "\(String(describing: await controller.readiness())): \(controller.stderr.suffix(1500))")
                }
                Issue.record("no leader after the restart:\n\(said.joined(separator: "\n---\n"))")
                throw LiveError.failed("no leader")
            }
            let now = controllers[leader]
            let acknowledged = Set(writers.acknowledged.withLock { $0 })
            let names = Set(
                try await now.call(.GET, "/v1/ministries/health/applications", token: now.operatorToken).items
                    .compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String })
            #expect(acknowledged.isSubset(of: names), "lost: \(acknowledged.subtracting(names).sorted())")
            print(
                "database restart: \(acknowledged.count) applies acknowledged, \(writers.refused.withLock { $0 }) refused or unanswered"
            )
        } catch {
            Issue.record(error)
        }
        for client in clients { await client.shutdown() }
        for controller in controllers { await controller.shutdown() }
        server.stop()
    }

    @Test("an agent that has seen a higher epoch ignores a lower one's assignments, kept across its restarts")
    func agentRefusesStaleEpoch() async throws {
        try await LiveController.with { live in
            let agent = try await LiveAgent(live, name: "epoch-0", zone: "z0", ports: 21800...21849)
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                #expect(
                    try await eventually(.seconds(10)) {
                        try await live.call(.GET, "/v1/nodes", token: live.operatorToken).items.first?["phase"]
                            as? String == "Ready"
                    })
                // The controller here leads epoch 1; the agent once saw epoch 7.
                await agent.stop()
                try "7\n".write(toFile: agent.dataDir + "/epoch", atomically: true, encoding: .utf8)
                try agent.start()
                #expect(try await LiveControllerTests.apply(live, Self.application("stale", replicas: 1)).status == 200)
                try await Task.sleep(for: .seconds(4))
                let phases = try await live.call(.GET, "/v1/instances?application=stale", token: live.operatorToken)
                    .items.compactMap { $0["phase"] as? String }
                #expect(phases == ["Assigned"], "the agent acted on a lower epoch's word: \(phases)")
                #expect(agent.output.contains("ignored assignments of a deposed leader"))
                #expect(agent.instancePids.isEmpty)
                // Told the cluster's epoch again (an operator's reset), it runs it.
                await agent.stop()
                try FileManager.default.removeItem(atPath: agent.dataDir + "/epoch")
                try agent.start()
                #expect(
                    try await eventually(.seconds(20)) {
                        try await live.call(.GET, "/v1/instances?application=stale", token: live.operatorToken)
                            .items.first?["phase"] as? String == "Healthy"
                    })
                #expect(try String(contentsOfFile: agent.dataDir + "/epoch", encoding: .utf8) == "1\n")
            } catch {
                Issue.record(error)
            }
            await agent.shutdown()
        }
    }
}
