import AsyncHTTPClient
import Foundation
import TansiqTestSupport
import Testing

/// Instances of different ministries side by side on one node, under real runc, started by a
/// real agent from a real controller: what one can see and touch of the node and of the other.
@Suite(
    "Instances are isolated from each other and from the node",
    .serialized, .enabled(if: HostFacts.hasRunc, "runc is not installed on this machine"))
struct IsolationTests {
    /// An application that runs a shell script and then sleeps.
    static func shell(_ ministry: String, _ name: String, _ script: String, extra: String = "") -> String {
        let quoted = script.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return """
            apiVersion: tansiq/v1
            kind: Application
            metadata: {name: \(name), ministry: \(ministry)}
            spec:
              resources: {cpu: 100m, memory: 64Mi}
              run: {command: ["/bin/sh", "-c", "\(quoted)"]}\(extra)
            """
    }

    static func instances(_ live: LiveController) async throws -> [[String: Any]] {
        try await live.call(.GET, "/v1/instances", token: live.operatorToken).items
    }

    static func instance(_ live: LiveController, _ app: String) async throws -> [String: Any]? {
        try await instances(live).first { $0["application"] as? String == app }
    }

    /// The instance's output (its log on the node).
    static func output(_ agent: LiveAgent, _ id: String) -> String {
        (try? String(contentsOfFile: agent.dataDir + "/instances/\(id)/output.log", encoding: .utf8)) ?? ""
    }

    @Test(
        "a ministry's instance cannot read the node's key or state or another ministry's files, cannot see or signal its processes, runs as its ministry's uid with no capabilities, and writes only /data and /tmp"
    )
    func probe() async throws {
        try await LiveController.with(arguments: ["--grace-period", "30s"]) { live in
            let agent = try await LiveAgent(live, name: "shared-node", zone: "z1", ports: 22100...22199)
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                // Ministry B (finance) keeps a file in its /data and runs.
                let b = Self.shell("finance", "ledger", "echo secret-of-finance > /data/ledger.txt; exec sleep 3600")
                #expect(try await LiveControllerTests.apply(live, b).status == 200)
                #expect(
                    try await eventually(.seconds(20)) {
                        try await Self.instance(live, "ledger")?["phase"] as? String == "Running"
                    })
                let bID = try await Self.instance(live, "ledger")?["id"] as? String ?? ""
                let bPid = agent.instancePids[bID] ?? 0
                let bFile = agent.dataDir + "/instances/\(bID)/data/ledger.txt"
                #expect(
                    try await eventually(.seconds(5)) {
                        FileManager.default.fileExists(atPath: bFile)
                    }, "B's file is on the node")
                #expect(bPid > 0)
                // Ministry A (health) probes everything it should not reach.
                let script = """
                    try() { if eval "$2" >/dev/null 2>&1; then echo "$1=yes"; else echo "$1=no"; fi; }
                    try readKey 'cat \(agent.dataDir)/node.key'
                    try readState 'cat \(agent.dataDir)/state.json'
                    try readOther 'cat \(bFile)'
                    try listAgentDir 'ls \(agent.dataDir)'
                    try signalOther 'kill -0 \(bPid)'
                    try writeUsr 'touch /usr/probe'
                    try writeEtc 'touch /etc/probe'
                    try writeRoot 'touch /probe'
                    try writeData 'touch /data/probe'
                    try writeTmp 'touch /tmp/probe'
                    echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
                    echo "$(grep CapEff /proc/self/status | tr -d '\\t')"
                    echo "$(grep NoNewPrivs /proc/self/status | tr -d '\\t')"
                    echo "processes=$(ls /proc | grep -c '^[0-9][0-9]*$')"
                    echo "hostname=$(hostname)"
                    echo done-probing
                    exec sleep 3600
                    """
                #expect(try await LiveControllerTests.apply(live, Self.shell("health", "prober", script)).status == 200)
                var aID = ""
                #expect(
                    try await eventually(.seconds(20)) {
                        aID = try await Self.instance(live, "prober")?["id"] as? String ?? ""
                        return Self.output(agent, aID).contains("done-probing")
                    }, "\(agent.output)")
                let out = Self.output(agent, aID)
                for denied in [
                    "readKey", "readState", "readOther", "listAgentDir", "signalOther", "writeUsr", "writeEtc",
                    "writeRoot",
                ] {
                    #expect(out.contains("\(denied)=no"), "\(denied): \(out)")
                }
                #expect(out.contains("writeData=yes") && out.contains("writeTmp=yes"), "\(out)")
                // The ministries' uids come from their status.
                let ministries = try await live.call(.GET, "/v1/ministries", token: live.operatorToken).items
                let uid = { (name: String) -> Int in
                    ((ministries.first { ($0["metadata"] as? [String: Any])?["name"] as? String == name }?["status"]
                        as? [String: Any])?["runAs"] as? [String: Any])?["uid"] as? Int ?? -1
                }
                #expect(uid("health") >= 200_000 && uid("finance") >= 200_000 && uid("health") != uid("finance"))
                #expect(out.contains("uid=\(uid("health")) gid=\(uid("health")) groups=\(uid("health"))\n"), "\(out)")
                #expect(out.contains("CapEff:0000000000000000"), "\(out)")
                #expect(out.contains("NoNewPrivs:1"), "\(out)")
                // Its shell and the commands the probe ran: a handful, never the node's.
                let processes =
                    Int(out.split(separator: "\n").first { $0.hasPrefix("processes=") }?.dropFirst(10) ?? "") ?? 99
                #expect(processes <= 5, "\(out)")
                #expect(out.contains("hostname=\(aID)"), "\(out)")
                // B's file is intact, and the node says it isolates.
                #expect((try? String(contentsOfFile: bFile, encoding: .utf8)) == "secret-of-finance\n")
                let node = try await live.call(.GET, "/v1/nodes/shared-node", token: live.operatorToken).json
                #expect((node as? [String: Any])?["isolation"] as? String == "runc")
            } catch {
                Issue.record(error)
            }
            await agent.shutdown()
        }
    }

    @Test("a fork bomb stops at the pids limit, the node stays responsive, and the neighbour keeps serving")
    func forkBomb() async throws {
        try await LiveController.with(arguments: ["--grace-period", "30s"]) { live in
            let agent = try await LiveAgent(
                live, name: "bombed", zone: "z1", ports: 22200...22299, extra: ["--pids-limit", "64"])
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                let steady = LiveAgentProcessTests.app("steady", replicas: 1)
                #expect(try await LiveControllerTests.apply(live, steady).status == 200)
                #expect(try await LiveAgentProcessTests.healthy(live, 1))
                let bomb = Self.shell(
                    "finance", "bomb", "b() { b | b & }; b; sleep 3600", extra: "\n  restart: {policy: never}")
                #expect(try await LiveControllerTests.apply(live, bomb).status == 200)
                // Started (a loaded machine may take a while), then given time to hit its limit.
                func bombPids() async throws -> String {
                    let bombID = try await Self.instance(live, "bomb")?["id"] as? String ?? ""
                    return ["/sys/fs/cgroup/pids/tansiq-bombed/\(bombID)", "/sys/fs/cgroup/tansiq-bombed/\(bombID)"]
                        .lazy.compactMap { try? String(contentsOfFile: $0 + "/pids.current", encoding: .utf8) }.first
                        ?? ""
                }
                let running = try await eventually(.seconds(30)) { try await !bombPids().isEmpty }
                #expect(running, "the bomb's cgroup never appeared")
                // Read for 3 s while it hits its limit: never above it. (Read once at the end, the
                // cgroup was sometimes gone, the bomb having ended, on a loaded machine.)
                var highest = 0
                var readings = 0
                let until = ContinuousClock.now + .seconds(3)
                while ContinuousClock.now < until {
                    if let value = Int(try await bombPids().trimmingCharacters(in: .whitespacesAndNewlines)) {
                        highest = max(highest, value)
                        readings += 1
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(readings > 0, "the bomb's pids were never readable")
                #expect(highest <= 64, "pids: at most \(highest)")
                // The node (its agent) still answers: the steady instance stays Healthy and reported.
                let port = (try await Self.instance(live, "steady")?["ports"] as? [String: Int])?["http"] ?? 0
                let http = live.client
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz")
                request.method = .GET
                let answer = try await http.execute(request, timeout: .seconds(5))
                #expect(answer.status.code == 200)
                #expect(try await Self.instance(live, "steady")?["phase"] as? String == "Healthy")
                let nodes = try await live.call(.GET, "/v1/nodes", token: live.operatorToken).items
                #expect(nodes.first?["phase"] as? String == "Ready")
            } catch {
                Issue.record(error)
            }
            await agent.shutdown()
        }
    }

    @Test(
        "kill -9 of the agent: containers keep running and are adopted with the same pids; unassigned ones are stopped and their bundles removed"
    )
    func adoption() async throws {
        try await LiveController.with(arguments: ["--grace-period", "30s"]) { live in
            let agent = try await LiveAgent(live, name: "adopter", zone: "z1", ports: 22300...22399)
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                #expect(
                    try await LiveControllerTests.apply(live, LiveAgentProcessTests.app("keep", replicas: 2)).status
                        == 200)
                #expect(
                    try await LiveControllerTests.apply(live, LiveAgentProcessTests.app("drop", replicas: 1)).status
                        == 200)
                #expect(try await LiveAgentProcessTests.healthy(live, 3))
                let before = agent.instancePids
                let running = await agent.containers()
                #expect(before.count == 3 && Set(running.values) == ["running"])
                await agent.stop(signal: SIGKILL)
                // While the agent is down, every container keeps running.
                #expect(before.values.allSatisfy(HostFacts.isRunning))
                let dropped = try await LiveControllerTests.apply(live, LiveAgentProcessTests.app("drop", replicas: 0))
                #expect(dropped.status == 200)
                let dropID = before.keys.first { $0.contains("-drop-") } ?? ""
                try agent.start()
                #expect(
                    try await eventually(.seconds(20)) {
                        await agent.containers()[dropID] == nil
                            && !FileManager.default.fileExists(atPath: agent.dataDir + "/bundles/\(dropID)")
                    }, "the unassigned container is stopped and its bundle removed")
                #expect(!HostFacts.isRunning(before[dropID] ?? 0))
                for (id, pid) in before where id != dropID {
                    #expect(agent.instancePids[id] == pid, "\(id) adopted with the same pid")
                    let state = await agent.containers()[id]
                    #expect(state == "running")
                }
                #expect(agent.output.contains("adopted=3"))
                #expect(try await LiveAgentProcessTests.healthy(live, 2))
                let restarts = try await Self.instances(live).compactMap { $0["restarts"] as? Int }
                #expect(restarts == [0, 0])
            } catch {
                Issue.record(error)
            }
            await agent.shutdown()
        }
    }

    @Test("an instance that turns Unhealthy is restarted under its policy, and its restarts are reported")
    func unhealthyRestarted() async throws {
        try await LiveController.with(arguments: ["--grace-period", "30s"]) { live in
            let agent = try await LiveAgent(live, name: "liveness", zone: "z1", ports: 22400...22499)
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                // Healthy while /data/ok exists; the first start creates it, later ones do not.
                let script =
                    "if [ ! -e /data/started ]; then touch /data/started /data/ok; fi; "
                    + "while true; do sleep 0.2; [ -e /data/unhealthy ] && rm -f /data/ok; done"
                let app = Self.shell(
                    "health", "flaky", script,
                    extra: """

                          health: {exec: {command: [/bin/sh, -c, "test -e /data/ok"]}, interval: 300ms, failureThreshold: 2}
                          restart: {policy: always, backoff: 1s}
                        """)
                #expect(try await LiveControllerTests.apply(live, app).status == 200)
                #expect(
                    try await eventually(.seconds(20)) {
                        try await Self.instance(live, "flaky")?["phase"] as? String == "Healthy"
                    }, "\(agent.output)")
                let id = try await Self.instance(live, "flaky")?["id"] as? String ?? ""
                _ = FileManager.default.createFile(
                    atPath: agent.dataDir + "/instances/\(id)/data/unhealthy", contents: nil)
                var sawUnhealthy = false
                #expect(
                    try await eventually(.seconds(20)) {
                        let instance = try await Self.instance(live, "flaky")
                        if instance?["phase"] as? String == "Unhealthy" { sawUnhealthy = true }
                        return (instance?["restarts"] as? Int ?? 0) >= 1
                    })
                #expect(sawUnhealthy)
            } catch {
                Issue.record(error)
            }
            await agent.shutdown()
        }
    }
}
