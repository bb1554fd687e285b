import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import TansiqTestSupport
import Testing

/// Instances' logs end to end: a real instance under runc prints, its agent serves the lines over
/// mutual TLS to the controller alone, and `tansiq logs` reads them through the controller.
@Suite(
    "Logs: an instance's output through the controller, to those who may read it",
    .serialized, .enabled(if: HostFacts.hasRunc, "runc is not installed on this machine"))
struct LogsTests {
    /// Prints, every 50 ms, what the test leaves in /data/say (then removes it).
    static let talker = IsolationTests.shell(
        "health", "talker",
        "while true; do if [ -e /data/say ]; then cat /data/say; rm -f /data/say; fi; sleep 0.05; done")

    /// Makes the instance print `line`.
    static func say(_ line: String, _ agent: LiveAgent, _ id: String) throws {
        let dir = agent.dataDir + "/instances/\(id)/data"
        try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/say.tmp"))
        // Renamed into place, so the instance never reads half a line.
        try FileManager.default.moveItem(atPath: dir + "/say.tmp", toPath: dir + "/say")
    }

    /// `tansiq` with the operator's connection (or another token).
    static func tansiq(_ arguments: [String], _ live: LiveController, token: String? = nil) async throws -> RunResult {
        var environment = ProcessInfo.processInfo.environment
        environment["TANSIQ_SERVER"] = live.baseURL
        environment["TANSIQ_CA"] = live.dataDir + "/ca.crt"
        environment["TANSIQ_TOKEN"] = token ?? live.operatorToken
        environment["TANSIQ_CONFIG"] = live.dataDir + "-cli.yaml"
        return try await runProcess(
            productsDirectory.appendingPathComponent("tansiq"), arguments, environment: environment)
    }

    /// A call to the agent's log port with `identity` as client certificate (nil: none).
    static func agentCall(
        port: Int, ca: String, identity: (certificate: String, key: String)?, path: String
    ) async -> Result<Int, Error> {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            tls.certificateVerification = .noHostnameVerification
            if let identity {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(identity.certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: identity.key, format: .pem))
            }
        } catch {
            return .failure(error)
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool.retryConnectionEstablishment = false
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = http.shutdown() }
        do {
            let answer = try await http.execute(
                HTTPClientRequest(url: "https://127.0.0.1:\(port)\(path)"), timeout: .seconds(5))
            return .success(Int(answer.status.code))
        } catch {
            return .failure(error)
        }
    }

    @Test(
        "tansiq logs -f shows a line within a second; --tail, --since and an application's instances; another ministry gets 403; the agent answers the controller's certificate alone"
    )
    func logs() async throws {
        try await LiveController.with(arguments: ["--grace-period", "30s"]) { live in
            let agent = try await LiveAgent(live, name: "logs-a", zone: "z1", ports: 22500...22549)
            var follower: Process?
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                #expect(try await LiveControllerTests.apply(live, Self.talker).status == 200)
                var id = ""
                #expect(
                    try await eventually(.seconds(60)) {
                        let found = try await IsolationTests.instance(live, "talker")
                        id = found?["id"] as? String ?? ""
                        return found?["phase"] as? String == "Running"
                    })
                try Self.say("first line", agent, id)
                #expect(
                    try await eventually(.seconds(10)) {
                        try await Self.tansiq(["logs", id], live).stdout.contains("first line")
                    })

                // -f: a line printed now shows within a second.
                let output = URL(fileURLWithPath: live.dataDir + "-follow.out")
                FileManager.default.createFile(atPath: output.path, contents: nil)
                let process = Process()
                process.executableURL = productsDirectory.appendingPathComponent("tansiq")
                process.arguments = ["logs", id, "-f"]
                var environment = ProcessInfo.processInfo.environment
                environment["TANSIQ_SERVER"] = live.baseURL
                environment["TANSIQ_CA"] = live.dataDir + "/ca.crt"
                environment["TANSIQ_TOKEN"] = live.operatorToken
                process.environment = environment
                process.standardOutput = try FileHandle(forWritingTo: output)
                process.standardError = FileHandle.nullDevice
                try process.run()
                follower = process
                #expect(
                    try await eventually(.seconds(10)) {
                        ((try? String(contentsOf: output, encoding: .utf8)) ?? "").contains("first line")
                    })
                let line = "live-" + UUID().uuidString
                let started = ContinuousClock.now
                try Self.say(line, agent, id)
                let shown = try await eventually(.seconds(5), every: .milliseconds(10)) {
                    ((try? String(contentsOf: output, encoding: .utf8)) ?? "").contains(line)
                }
                let elapsed = ContinuousClock.now - started
                #expect(shown)
                #expect(elapsed <= .seconds(1), "the followed line showed after \(elapsed)")
                print("logs: a followed line showed after \(elapsed)")

                // --tail and --since.
                let tail = try await Self.tansiq(["logs", id, "--tail", "1"], live)
                #expect(tail.stdout == line + "\n", "\(tail.stdout)")
                try await Task.sleep(for: .milliseconds(600))
                let since = Date()
                try await Task.sleep(for: .milliseconds(600))
                try Self.say("after the mark", agent, id)
                #expect(
                    try await eventually(.seconds(5)) {
                        try await Self.tansiq(["logs", id], live).stdout.contains("after the mark")
                    })
                let recent = try await Self.tansiq(
                    ["logs", id, "--since", ISO8601DateFormatter().string(from: since)], live)
                #expect(recent.stdout == "after the mark\n", "\(recent.stdout)")
                // Every instance of the application, each line prefixed with its id.
                let all = try await Self.tansiq(["logs", "talker", "-m", "health"], live)
                #expect(all.stdout.contains("[\(id)] first line\n[\(id)] \(line)\n"), "\(all.stdout)")

                // Another ministry: 403, for an instance that exists and for one that does not.
                let issued = try await live.call(
                    .POST, "/v1/tokens", token: live.operatorToken,
                    body: #"{"subject": "fadi", "role": "ministry-admin", "ministry": "finance"}"#)
                let finance = (issued.json as? [String: Any])?["token"] as? String ?? ""
                for path in ["/v1/instances/\(id)/logs", "/v1/instances/health-talker-999/logs"] {
                    #expect(try await live.call(.GET, path, token: finance).status == 403)
                }
                #expect(
                    try await live.call(.GET, "/v1/instances/health-talker-999/logs", token: live.operatorToken)
                        .status == 404)
                let refused = try await Self.tansiq(["logs", id], live, token: finance)
                #expect(refused.status == 1 && refused.stdout.isEmpty, "\(refused)")
                for query in ["tail=-1", "tail=x", "since=yesterday", "follow=maybe"] {
                    let reply = try await live.call(
                        .GET, "/v1/instances/\(id)/logs?\(query)", token: live.operatorToken)
                    #expect(reply.status == 400, "\(query): \(reply.body)")
                }

                // The agent's log port: the controller's certificate only.
                let node = try await live.call(.GET, "/v1/nodes/logs-a", token: live.operatorToken)
                let port = try #require((node.json as? [String: Any])?["logPort"] as? Int)
                #expect((node.json as? [String: Any])?["address"] as? String == "127.0.0.1")
                let ca = live.dataDir + "/ca.crt"
                let path = "/v1/instances/\(id)/logs"
                // Its own node certificate, valid and of the cluster CA, is not the controller's.
                let asNode = await Self.agentCall(
                    port: port, ca: ca, identity: (agent.dataDir + "/node.crt", agent.dataDir + "/node.key"),
                    path: path)
                #expect((try? asNode.get()) == 403, "\(asNode)")
                // No client certificate at all: the handshake fails.
                let anonymous = await Self.agentCall(port: port, ca: ca, identity: nil, path: path)
                #expect((try? anonymous.get()) == nil, "\(anonymous)")
            } catch {
                Issue.record("\(error)\nagent: \(agent.output.suffix(2000))")
            }
            if let follower, follower.isRunning { follower.terminate() }
            await agent.shutdown()
        }
    }
}
