import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel
import TansiqStore
import Testing

@testable import TansiqController

@Suite("Endpoints list ready instances; take-downs leave them before their agents stop them")
struct EndpointsTests {
    static let t0 = Date(timeIntervalSince1970: 2_400_000_000)
    static let admin = Caller(subject: "admin", role: .operator)

    static let exposed =
        "\n  ports: [{name: http}]\n  expose: [{port: http, host: portal.gov.example}]\n  consumers: [finance]"
        + "\n  update: {maxSurge: 1, maxUnavailable: 0, drainTimeout: 10s}"

    /// Commits as the cluster does: a change that moves the endpoints moves their version.
    static func commit(_ registry: inout Registry, _ changeset: Changeset) {
        registry.apply(registry.stampingEndpoints(changeset))
    }

    static func apply(_ registry: inout Registry, _ yaml: String, at time: Date = t0) throws {
        let (objects, diagnostics) = ManifestParser.parse(yaml, file: "t")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        commit(&registry, try registry.planApply(objects, caller: admin, now: time, requestID: "r").changeset)
    }

    /// `health/portal` (3 replicas, exposed, finance a consumer) and `health/internal` (2
    /// replicas, not exposed), every instance Running on node a (10.0.0.5) or b (10.0.0.6).
    static func running() throws -> Registry {
        var registry = Registry(state: StoredState())
        try apply(
            &registry,
            Harness.ministries + "\n---\n" + Harness.app("health", "portal", replicas: 3, extra: exposed) + "\n---\n"
                + Harness.app("health", "internal", replicas: 2, extra: "\n  ports: [{name: http}]"))
        let capacity = Resources(cpuMillis: 16000, memoryBytes: 32 << 30, storageBytes: 0, instances: 50)
        var a = Node(name: "a", phase: .ready, capacity: capacity)
        a.address = "10.0.0.5"
        var b = Node(name: "b", phase: .ready, capacity: capacity)
        b.address = "10.0.0.6"
        var mutations: [Mutation] = [.putNode(a), .putNode(b)]
        for (index, var instance) in registry.pending.enumerated() {
            instance.node = index % 2 == 0 ? "a" : "b"
            instance.phase = .running
            instance.ports = ["http": 30000 + index]
            mutations.append(.putInstance(instance))
        }
        commit(&registry, Changeset(basedOn: registry.state.resourceVersion, mutations: mutations))
        return registry
    }

    static func endpoints(_ registry: Registry, _ caller: Caller, application: String? = nil) -> [String: [Endpoint]] {
        let list = registry.endpointsList(caller: caller, ministry: nil, application: application)
        return Dictionary(uniqueKeysWithValues: list.items.map { ("\($0.ministry)/\($0.application)", $0.endpoints) })
    }

    static func phase(_ registry: Registry, _ id: String) -> InstancePhase? { registry.state.instances[id]?.phase }

    @Test("ready instances only, with their node's address and their ports; Pending and Failed are left out")
    func readyOnly() throws {
        var registry = try Self.running()
        let portal = registry.state.instances(ofApplication: "health/portal").sorted { $0.id < $1.id }
        var failed = portal[0]
        failed.phase = .failed
        Self.commit(&registry, Changeset(basedOn: registry.state.resourceVersion, mutations: [.putInstance(failed)]))
        let list = Self.endpoints(registry, Self.admin)["health/portal"] ?? []
        #expect(list.map(\.instance) == portal.dropFirst().map(\.id))
        for endpoint in list {
            let instance = registry.state.instances[endpoint.instance]!
            #expect(endpoint.node == instance.node)
            #expect(endpoint.address == (instance.node == "a" ? "10.0.0.5" : "10.0.0.6"))
            #expect(endpoint.ports == instance.ports)
        }
        let answer = registry.endpointsList(caller: Self.admin, ministry: "health", application: "portal")
        #expect(answer.items.first?.expose == [ExposeSpec(port: "http", host: "portal.gov.example")])
        #expect(answer.resourceVersion == registry.state.endpointsVersion)
    }

    @Test(
        "the owner, its consumers, operators and auditors read an application's endpoints; gateways only exposed ones")
    func readers() throws {
        let registry = try Self.running()
        let cases: [(Caller, Set<String>)] = [
            (Self.admin, ["health/portal", "health/internal"]),
            (Caller(subject: "aya", role: .auditor), ["health/portal", "health/internal"]),
            (Caller(subject: "hadi", role: .ministryViewer, ministry: "health"), ["health/portal", "health/internal"]),
            (Caller(subject: "fadi", role: .ministryAdmin, ministry: "finance"), ["health/portal"]),
            (Caller(subject: "edge", role: .gateway), ["health/portal"]),
            (Caller(subject: "bootstrap", role: .bootstrap), []),
        ]
        for (caller, expected) in cases {
            #expect(Set(Self.endpoints(registry, caller).keys) == expected, "\(caller.subject)")
        }
    }

    @Test("a change that moves the endpoints moves their version; one that does not, does not")
    func versions() throws {
        var registry = try Self.running()
        let start = registry.state.endpointsVersion
        #expect(start > 0)
        var instance = registry.state.instances(ofApplication: "health/portal").first!
        instance.restarts = 3
        Self.commit(&registry, Changeset(basedOn: registry.state.resourceVersion, mutations: [.putInstance(instance)]))
        #expect(registry.state.endpointsVersion == start)
        instance.ports = ["http": 31999]
        Self.commit(&registry, Changeset(basedOn: registry.state.resourceVersion, mutations: [.putInstance(instance)]))
        #expect(registry.state.endpointsVersion == start + 1)
        var node = registry.state.nodes["a"]!
        node.address = "10.0.0.9"
        Self.commit(&registry, Changeset(basedOn: registry.state.resourceVersion, mutations: [.putNode(node)]))
        #expect(registry.state.endpointsVersion == start + 2)
    }

    @Test("a scale-down takes an exposed application's instance out of the endpoints first; others go at once")
    func scaleDown() throws {
        var registry = try Self.running()
        let version = registry.state.endpointsVersion
        try Self.apply(
            &registry,
            Harness.app("health", "portal", replicas: 2, extra: Self.exposed) + "\n---\n"
                + Harness.app("health", "internal", replicas: 1, extra: "\n  ports: [{name: http}]"))
        let leaving = registry.state.instances(ofApplication: "health/portal").filter { $0.phase == .terminating }
        #expect(leaving.count == 1)
        #expect(leaving.first?.terminating?.endpointsVersion == version + 1)
        #expect(registry.state.endpointsVersion == version + 1)
        #expect(registry.state.instances(ofApplication: "health/internal").count == 1)
        #expect(Self.endpoints(registry, Self.admin)["health/portal"]?.count == 2)
        // Still assigned: its agent keeps it running until it is let go.
        let node = leaving[0].node!
        #expect(registry.assignments(of: node, version: 1).instances.contains { $0.id == leaving[0].id })
        // Its agent's reports do not bring it back.
        let status = AgentProtocol.Status(
            capacity: registry.state.nodes[node]!.capacity, allocatable: registry.state.nodes[node]!.capacity,
            labels: [:], enforcement: .none,
            instances: [AgentProtocol.InstanceReport(id: leaving[0].id, phase: .healthy, ports: ["http": 30001])])
        if let changeset = try registry.planStatus(node: node, status) { Self.commit(&registry, changeset) }
        #expect(Self.phase(registry, leaving[0].id) == .terminating)
        // Scaling down again takes another one; the Terminating one is not counted twice.
        try Self.apply(&registry, Harness.app("health", "portal", replicas: 1, extra: Self.exposed))
        #expect(registry.state.instances(ofApplication: "health/portal").filter { $0.phase == .terminating }.count == 2)
        #expect(Self.endpoints(registry, Self.admin)["health/portal"]?.count == 1)
    }

    @Test("a Terminating instance goes once every gateway heard in the last two minutes has applied its change")
    func waitsForGateways() throws {
        var registry = try Self.running()
        try Self.apply(&registry, Harness.app("health", "portal", replicas: 2, extra: Self.exposed))
        let leaving = registry.state.instances.values.first { $0.phase == .terminating }!
        let needed = leaving.terminating!.endpointsVersion
        let now = Self.t0.addingTimeInterval(2)
        func finish(_ gateways: [GatewayView], settled: Bool = true, at time: Date = now) -> [String] {
            registry.planFinishTakeDowns(now: time, gateways: gateways, settled: settled).value
        }
        let behind = GatewayView(name: "g1", endpointsVersion: needed - 1, reportedAt: now)
        let caughtUp = GatewayView(name: "g2", endpointsVersion: needed, reportedAt: now)
        let silent = GatewayView(name: "g3", endpointsVersion: 0, reportedAt: now.addingTimeInterval(-121))
        #expect(finish([behind, caughtUp]).isEmpty)
        #expect(finish([caughtUp, silent]) == [leaving.id])
        #expect(finish([]) == [leaving.id])
        // A controller that has not yet heard every gateway waits for the drain timeout (10s).
        #expect(finish([caughtUp], settled: false).isEmpty)
        #expect(finish([behind], settled: false, at: Self.t0.addingTimeInterval(10)) == [leaving.id])
        let outcome = registry.planFinishTakeDowns(now: now, gateways: [caughtUp], settled: true)
        Self.commit(&registry, outcome.changeset)
        #expect(registry.state.instances[leaving.id] == nil)
    }

    @Test("a rollout and a drain take instances down through Terminating, within the update bounds")
    func rolloutAndDrain() throws {
        var registry = try Self.running()
        try Self.apply(
            &registry, Harness.app("health", "portal", replicas: 3, cpu: "300m", extra: Self.exposed), at: Self.t0)
        var time = Self.t0
        var sawTerminating = false
        for _ in 0..<40 {
            time += 1
            Self.commit(&registry, registry.planRolloutRound(now: time).changeset)
            var started: [Mutation] = []
            for (index, var instance) in registry.pending.enumerated() {
                instance.node = "b"
                instance.phase = .running
                instance.ports = ["http": 32000 + index]
                started.append(.putInstance(instance))
            }
            Self.commit(&registry, Changeset(basedOn: registry.state.resourceVersion, mutations: started))
            let ready = Self.endpoints(registry, Self.admin)["health/portal"]?.count ?? 0
            #expect(ready >= 3, "maxUnavailable 0: three instances serve at every step")
            sawTerminating = sawTerminating || registry.state.instances.values.contains { $0.phase == .terminating }
            let gateway = GatewayView(name: "g", endpointsVersion: registry.state.endpointsVersion, reportedAt: time)
            Self.commit(
                &registry, registry.planFinishTakeDowns(now: time, gateways: [gateway], settled: true).changeset)
            if registry.state.applications["health/portal"]?.status?.rollout == "Complete",
                !registry.state.instances.values.contains(where: { $0.phase == .terminating })
            {
                break
            }
        }
        #expect(sawTerminating)
        #expect(registry.state.applications["health/portal"]?.status?.rollout == "Complete")
        #expect(registry.state.instances(ofApplication: "health/portal").count == 3)
        // Draining b: its portal instances leave the endpoints, and b is Drained only once they are gone.
        Self.commit(
            &registry, try registry.planDrain(name: "b", caller: Self.admin, now: time, requestID: "r").changeset)
        var leaving: [Instance] = []
        for _ in 0..<10 where leaving.isEmpty {
            Self.commit(&registry, registry.planDrainRound(now: time).changeset)
            var started: [Mutation] = []
            for var instance in registry.pending {
                instance.node = "a"
                instance.phase = .running
                started.append(.putInstance(instance))
            }
            Self.commit(&registry, Changeset(basedOn: registry.state.resourceVersion, mutations: started))
            leaving = registry.state.instances(onNode: "b").filter { $0.phase == .terminating }
        }
        #expect(!leaving.isEmpty)
        #expect((Self.endpoints(registry, Self.admin)["health/portal"]?.count ?? 0) >= 3)
        #expect(registry.state.nodes["b"]?.draining == true)
    }

    @Test("deleting an exposed application keeps it, deleting, until its instances have left the gateways")
    func deleteWaits() async throws {
        var registry = try Self.running()
        let outcome = try registry.planDeleteApplication(
            ministry: "health", name: "portal", caller: Self.admin, now: Self.t0, requestID: "r")
        Self.commit(&registry, outcome.changeset)
        #expect(registry.state.applications["health/portal"]?.status?.deleting != nil)
        #expect(registry.state.instances(ofApplication: "health/portal").allSatisfy { $0.phase == .terminating })
        let list = registry.endpointsList(caller: Self.admin, ministry: "health", application: "portal")
        #expect(list.items.first?.endpoints == [] && list.items.first?.expose == [])
        // Applying it again meanwhile is refused.
        let (objects, _) = ManifestParser.parse(
            Harness.app("health", "portal", replicas: 3, extra: Self.exposed), file: "t")
        #expect(throws: APIError.self) {
            try registry.planApply(objects, caller: Self.admin, now: Self.t0, requestID: "r")
        }
        let gateway = GatewayView(name: "g", endpointsVersion: registry.state.endpointsVersion, reportedAt: Self.t0)
        Self.commit(
            &registry, registry.planFinishTakeDowns(now: Self.t0, gateways: [gateway], settled: true).changeset)
        #expect(registry.state.applications["health/portal"] == nil)
        #expect(registry.state.instances(ofApplication: "health/portal").isEmpty)
        // An application behind no gateway goes at once.
        Self.commit(
            &registry,
            try registry.planDeleteApplication(
                ministry: "health", name: "internal", caller: Self.admin, now: Self.t0, requestID: "r"
            ).changeset)
        #expect(registry.state.applications["health/internal"] == nil)
    }
}

@Suite("The endpoints and gateways API")
struct EndpointsRouteTests {
    static let portal = Harness.app(
        "health", "portal", replicas: 1,
        extra: "\n  ports: [{name: http}]\n  expose: [{port: http, host: portal.gov.example}]")

    @Test("a gateway's token reads the endpoints and reports its status, nothing else")
    func gatewayRole() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            #expect(try await client.call(.post, "/v1/apply", token: "admin", body: Self.portal).status == 200)
            let list = try await client.call(.get, "/v1/endpoints", token: "gateway")
            #expect(list.status == 200, "\(list.body)")
            #expect(list.items.map { $0["application"] as? String } == ["portal"])
            for path in [
                "/v1/ministries", "/v1/nodes", "/v1/instances", "/v1/whoami", "/v1/events",
                "/v1/ministries/health/applications", "/v1/gateways", "/v1/audit",
            ] {
                let reply = try await client.call(.get, path, token: "gateway")
                #expect(reply.status == 403, "\(path): \(reply.status)")
            }
            let apply = try await client.call(.post, "/v1/apply", token: "gateway", body: Self.portal)
            #expect(apply.status == 403)
            let version = list.json["resourceVersion"] as? Int ?? -1
            let report = try await client.call(
                .put, "/v1/gateways/edge-1/status", token: "gateway", body: "{\"endpointsVersion\": \(version)}",
                contentType: "application/json")
            #expect(report.status == 200, "\(report.body)")
            let gateways = try await client.call(.get, "/v1/gateways", token: "auditor")
            #expect(gateways.items.map { $0["name"] as? String } == ["edge-1"])
            #expect(gateways.items.first?["endpointsVersion"] as? Int == version)
        }
    }

    @Test("bad gateway reports and endpoint queries are refused and change nothing")
    func badInput() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let cases: [(String, String, String?, Int)] = [
                ("/v1/gateways/Edge_1/status", "gateway", "{\"endpointsVersion\": 0}", 400),
                ("/v1/gateways/edge/status", "gateway", "{\"endpointsVersion\": 999999}", 400),
                ("/v1/gateways/edge/status", "gateway", "{\"endpointsVersion\": -1}", 400),
                ("/v1/gateways/edge/status", "gateway", "{\"version\": 1}", 400),
                ("/v1/gateways/edge/status", "health-admin", "{\"endpointsVersion\": 0}", 403),
                ("/v1/gateways/edge/status", "bootstrap", "{\"endpointsVersion\": 0}", 401),
            ]
            for (path, token, body, status) in cases {
                let reply = try await client.call(
                    .put, path, token: token, body: body, contentType: "application/json")
                #expect(reply.status == status, "\(path) \(token) \(body ?? ""): \(reply.body)")
                #expect(reply.errorMessage != "")
            }
            #expect(try await client.call(.get, "/v1/gateways", token: "admin").items.isEmpty)
            for query in ["after=x", "after=-1", "ministry=Health", "application=a_b", "after=0&wait=61"] {
                let reply = try await client.call(.get, "/v1/endpoints?\(query)", token: "admin")
                #expect(reply.status == 400, "\(query): \(reply.body)")
            }
        }
    }

    @Test("the endpoints long poll answers the moment the ready set changes")
    func longPoll() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            #expect(try await client.call(.post, "/v1/apply", token: "admin", body: Self.portal).status == 200)
            let version =
                try await client.call(.get, "/v1/endpoints", token: "admin").json["resourceVersion"] as? Int ?? 0
            let started = ContinuousClock.now
            let idle = try await client.call(.get, "/v1/endpoints?after=\(version)&wait=1", token: "admin")
            #expect(idle.json["resourceVersion"] as? Int == version)
            #expect(ContinuousClock.now - started >= .milliseconds(900))
            async let woken = client.call(.get, "/v1/endpoints?after=\(version)&wait=30", token: "admin")
            try await Task.sleep(for: .milliseconds(200))
            let cluster = harness.cluster
            _ = try await cluster.systemChange(by: "test", at: Date()) { registry in
                var node = Node(
                    name: "n1", phase: .ready,
                    capacity: Resources(cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 0, instances: 10))
                node.address = "127.0.0.1"
                var instance = registry.state.instances.values.first!
                instance.node = "n1"
                instance.phase = .running
                instance.ports = ["http": 40000]
                return Registry.Outcome(
                    changeset: Changeset(
                        basedOn: registry.state.resourceVersion, resourceVersion: registry.state.resourceVersion + 1,
                        mutations: [.putNode(node), .putInstance(instance)]),
                    value: ())
            }
            let answer = try await woken
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(answer.json["resourceVersion"] as? Int == version + 1)
            let endpoint = (answer.items.first?["endpoints"] as? [[String: Any]])?.first
            #expect(endpoint?["address"] as? String == "127.0.0.1")
            #expect((endpoint?["ports"] as? [String: Int])?["http"] == 40000)
        }
    }

    @Test("a host and path another ministry publishes is refused without naming its application")
    func hostConflict() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            #expect(try await client.call(.post, "/v1/apply", token: "admin", body: Self.portal).status == 200)
            let other = Self.portal.replacingOccurrences(of: "ministry: health", with: "ministry: finance")
            let refused = try await client.call(.post, "/v1/apply", token: "finance-admin", body: other)
            #expect(refused.status == 409, "\(refused.body)")
            #expect(!refused.body.contains("health"), "\(refused.body)")
            let named = try await client.call(.post, "/v1/apply", token: "admin", body: other)
            #expect(named.status == 409 && named.errorMessage.contains("Application/health/portal"))
            #expect(await harness.state.applications["finance/portal"] == nil)
        }
    }
}
