import AsyncHTTPClient
import Foundation
import TansiqTestSupport
import Testing

/// Applications delivered as OCI images: the demo service built into an image, pushed to a real
/// registry on loopback, resolved by the real controller and pulled by a real agent into runc.
@Suite(
    "Applications run from OCI images pinned to digests",
    .serialized,
    .enabled(
        if: HostFacts.hasRegistryTools, "docker-registry, skopeo, umoci and runc are needed (Debian packages)"))
struct ImageTests {
    static func app(_ image: String, name: String = "portal", replicas: Int = 2, extra: String = "") -> String {
        """
        apiVersion: tansiq/v1
        kind: Application
        metadata: {name: \(name), ministry: health}
        spec:
          replicas: \(replicas)
          resources: {cpu: 100m, memory: 128Mi}
          image: \(image)
          run: {env: {GREETING: hello}}
          ports: [{name: http, port: 0}]
          health: {http: {path: /healthz, port: http}, interval: 500ms, timeout: 2s}
          update: {maxSurge: 1, maxUnavailable: 0}\(extra)
        """
    }

    /// A controller and one agent that both reach `registry` over plain HTTP.
    static func cluster(
        _ registry: LiveRegistry, _ body: (LiveController, LiveAgent) async throws -> Void
    ) async throws {
        try await LiveController.with(arguments: ["--insecure-registry", registry.host]) { live in
            let agent = try await LiveAgent(
                live, name: "imager", zone: "z1", ports: 22500...22599, extra: ["--insecure-registry", registry.host])
            do {
                #expect(try await LiveControllerTests.apply(live, Harness.ministries).status == 200)
                try await body(live, agent)
            } catch {
                Issue.record(error)
            }
            await agent.shutdown()
        }
    }

    static func instances(_ live: LiveController) async throws -> [[String: Any]] {
        try await live.call(.GET, "/v1/instances", token: live.operatorToken).items
            .filter { !["Lost", "Preempted", "Stopped"].contains($0["phase"] as? String ?? "") }
    }

    static func appStatus(_ live: LiveController, _ name: String = "portal") async throws -> [String: Any] {
        let app = try await live.call(.GET, "/v1/ministries/health/applications/\(name)", token: live.operatorToken)
        return (app.json as? [String: Any])?["status"] as? [String: Any] ?? [:]
    }

    @Test(
        "an image applied by tag is pinned to its digest, pulled, verified and served; a moved tag changes nothing until the next apply, which rolls it out"
    )
    func pinnedAndRolled() async throws {
        let registry = try await LiveRegistry()
        defer { registry.shutdown() }
        let first = try await registry.pushDemo("health/portal", tag: "1.0")
        try await Self.cluster(registry) { live, agent in
            let reference = "\(registry.host)/health/portal:1.0"
            #expect(try await LiveControllerTests.apply(live, Self.app(reference)).status == 200)
            #expect(try await LiveAgentProcessTests.healthy(live, 2), "\(agent.output)")
            #expect(try await Self.appStatus(live)["imageDigest"] as? String == first)
            let running = try await Self.instances(live)
            #expect(running.allSatisfy { $0["imageDigest"] as? String == first })
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            for instance in running {
                let port = (instance["ports"] as? [String: Int])?["http"] ?? 0
                let answer = await LiveAgentProcessTests.whoIsOn(port, http)
                #expect(answer?["instance"] == instance["id"] as? String)
                #expect(answer?["uid"].flatMap(Int.init) ?? 0 >= 200_000, "runs as its ministry's uid")
            }
            try? await http.shutdown()
            // The same tag now names other bytes: nothing changes until the next apply.
            let second = try await registry.pushDemo("health/portal", tag: "1.0", env: ["VARIANT=2"])
            #expect(second != first)
            try await Task.sleep(for: .seconds(2))
            let ids = Set(running.compactMap { $0["id"] as? String })
            #expect(Set(try await Self.instances(live).compactMap { $0["id"] as? String }) == ids)
            let again = try await LiveControllerTests.apply(live, Self.app(reference))
            #expect(again.status == 200)
            #expect(again.body.contains("configured"), "a new digest is a new generation: \(again.body)")
            #expect(
                try await eventually(.seconds(40)) {
                    let now = try await Self.instances(live)
                    return try await Self.appStatus(live)["rollout"] as? String == "Complete" && now.count == 2
                        && now.allSatisfy {
                            $0["imageDigest"] as? String == second && $0["phase"] as? String == "Healthy"
                                && !ids.contains($0["id"] as? String ?? "")
                        }
                }, "\(agent.output)")
            #expect(try await Self.appStatus(live)["imageDigest"] as? String == second)
            // Undo: the first digest again, although the tag names the second.
            var environment = ProcessInfo.processInfo.environment
            environment["TANSIQ_SERVER"] = live.baseURL
            environment["TANSIQ_CA"] = live.dataDir + "/ca.crt"
            environment["TANSIQ_TOKEN"] = live.operatorToken
            environment["TANSIQ_CONFIG"] = live.dataDir + "-cli.yaml"
            let undo = try await runProcess(
                productsDirectory.appendingPathComponent("tansiq"), ["rollout", "undo", "portal", "-m", "health"],
                environment: environment)
            #expect(undo.status == 0 && undo.stdout.contains(first), "\(undo.stdout) \(undo.stderr)")
            let restored = try await eventually(.seconds(40)) {
                let now = try await Self.instances(live)
                return now.count == 2
                    && now.allSatisfy { $0["imageDigest"] as? String == first && $0["phase"] as? String == "Healthy" }
            }
            #expect(restored, "\(agent.output)")
            // Layers are stored once: both images share theirs.
            let blobs = try FileManager.default.contentsOfDirectory(atPath: agent.dataDir + "/images/blobs/sha256")
            let layers = Set(try registry.layers(of: first) + registry.layers(of: second))
            #expect(blobs.count == layers.count + 2, "two configs, and each layer once")
        }
    }

    @Test("a tag the registry does not have is a 422 at spec.image with the registry's answer, and nothing is applied")
    func unresolvable() async throws {
        let registry = try await LiveRegistry()
        defer { registry.shutdown() }
        try await Self.cluster(registry) { live, _ in
            let reply = try await LiveControllerTests.apply(live, Self.app("\(registry.host)/health/nothing:9"))
            #expect(reply.status == 422)
            #expect(reply.body.contains("image-unavailable") && reply.body.contains("spec.image"))
            #expect(reply.body.contains("404") || reply.body.contains("MANIFEST_UNKNOWN"), "\(reply.body)")
            let apps = try await live.call(.GET, "/v1/ministries/health/applications", token: live.operatorToken)
            #expect(apps.items.isEmpty)
        }
    }

    @Test("a layer whose bytes do not match its digest is refused and the instance says why")
    func tampered() async throws {
        let registry = try await LiveRegistry()
        defer { registry.shutdown() }
        let digest = try await registry.pushDemo("health/tampered", tag: "1.0")
        // The registry serves what its storage holds: flip bytes of the first layer.
        let layer = registry.blobFile(try registry.layers(of: digest)[0])
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: layer)))
        for index in stride(from: 100, to: min(bytes.count, 4000), by: 97) { bytes[index] ^= 0x5a }
        try Data(bytes).write(to: URL(fileURLWithPath: layer))
        try await Self.cluster(registry) { live, agent in
            let reference = "\(registry.host)/health/tampered:1.0"
            #expect(try await LiveControllerTests.apply(live, Self.app(reference, replicas: 1)).status == 200)
            var message = ""
            let refused = try await eventually(.seconds(30)) {
                let instance = try await Self.instances(live).first
                message = instance?["message"] as? String ?? ""
                return instance?["phase"] as? String == "Starting" && message.contains("does not match its digest")
            }
            #expect(refused, "\(message)")
            let containers = await agent.containers()
            #expect(containers.isEmpty, "nothing ran")
        }
    }

    @Test("an unreachable registry leaves the instance Starting with the reason; it starts once the registry is back")
    func unreachable() async throws {
        let registry = try await LiveRegistry()
        defer { registry.shutdown() }
        let digest = try await registry.pushDemo("health/portal", tag: "2.0")
        try await Self.cluster(registry) { live, agent in
            registry.stop()
            // Pinned by digest: applying needs no registry; pulling does.
            let reference = "\(registry.host)/health/portal@\(digest)"
            #expect(try await LiveControllerTests.apply(live, Self.app(reference, replicas: 1)).status == 200)
            #expect(
                try await eventually(.seconds(20)) {
                    let instance = try await Self.instances(live).first
                    let message = instance?["message"] as? String ?? ""
                    return instance?["phase"] as? String == "Starting" && message.contains("image pull failed")
                        && message.contains("cannot reach the registry")
                })
            try await registry.start()
            #expect(try await LiveAgentProcessTests.healthy(live, 1), "\(agent.output)")
            #expect(try await Self.appStatus(live)["imageDigest"] as? String == digest)
        }
    }
}
