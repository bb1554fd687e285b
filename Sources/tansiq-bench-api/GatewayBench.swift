import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TansiqAPI
import TansiqModel
import TansiqTestSupport

/// `gateway`: a real controller, simulated nodes whose instances are real HTTP listeners on
/// loopback, a real `tansiq-gateway` and nginx. Measures the time from an instance becoming ready
/// (its node's status acknowledged) to nginx routing a request to it, the time from a take-down
/// (a scale-down acknowledged) to the instance leaving its node's assignments, and the requests
/// through nginx during a rolling update.
struct GatewayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Ready → routed and take-down → stop through a real nginx; requests during a rollout.",
        discussion: """
            Starts a controller, --nodes simulated nodes (address 127.0.0.1) and tansiq-gateway on --http-port;
            applies --apps exposed applications of --replicas instances (no health check: ready once Running).
            Every instance is an HTTP listener of this process answering its own port. The applications become
            ready ten at a time; a prober sends requests through nginx for each host until every instance has
            answered. Then every application is scaled down by one, and each instance taken down is timed
            until it leaves its node's assignments (the gateways have applied the change). Last, ten
            applications roll out a new template while four clients send requests through nginx (a connection
            each), and every answer is counted.
            """)

    @Option(help: "Exposed applications.") var apps: Int = 100
    @Option(help: "Instances of each.") var replicas: Int = 3
    @Option(help: "Simulated nodes.") var nodes: Int = 10
    @Option(name: .customLong("http-port"), help: "The gateway's HTTP port.") var httpPort: Int = 22680

    func validate() throws {
        guard apps >= 1, replicas >= 2, nodes >= 1, (1...65535).contains(httpPort) else {
            throw ValidationError("need apps ≥ 1, replicas ≥ 2, nodes ≥ 1 and a port")
        }
    }

    static func host(_ app: Int) -> String { "app-\(app).bench.example" }

    static func application(_ index: Int, replicas: Int, generation: String = "1") -> String {
        """
        apiVersion: tansiq/v1
        kind: Application
        metadata: {name: app-\(index), ministry: bench}
        spec:
          replicas: \(replicas)
          resources: {cpu: 10m, memory: 16Mi}
          run: {command: [/bin/sleep, "3600"], env: {GENERATION: "\(generation)"}}
          ports: [{name: http}]
          update: {maxSurge: 1, maxUnavailable: 0, drainTimeout: 30s}
          expose: [{port: http, host: \(host(index))}]
        """
    }

    func run() async throws {
        try await LiveController.with(arguments: ["--grace-period", "60s", "--log-level", "warning"]) { live in
            let backends = Backends()
            let fleet = World(live: live, nodes: (0..<nodes).map { live.node("gw-bench-\($0)") }, backends: backends)
            try await fleet.join()
            let gateway = try await LiveGateway(live, name: "bench", httpPort: httpPort)
            do {
                try await measure(live, fleet, gateway)
            } catch {
                FileHandle.standardError.write(Data("gateway: \(gateway.output.suffix(2000))\n".utf8))
                await gateway.shutdown()
                await backends.closeAll()
                for node in fleet.nodes { await node.shutdown() }
                throw error
            }
            await gateway.shutdown()
            await backends.closeAll()
            for node in fleet.nodes { await node.shutdown() }
        }
    }

    func measure(_ live: LiveController, _ world: World, _ gateway: LiveGateway) async throws {
        let controllerStarted = ContinuousClock.now
        _ = try await live.call(
            .POST, "/v1/apply", token: live.operatorToken, body: BenchWorkload.ministry, contentType: "application/yaml"
        )
        let yaml = (0..<apps).map { Self.application($0, replicas: replicas) }.joined(separator: "\n---\n")
        let applied = try await live.call(
            .POST, "/v1/apply", token: live.operatorToken, body: yaml, contentType: "application/yaml")
        guard applied.status == 200 else { throw LiveError.failed("apply: \(applied.body)") }
        // Placed, and reported Starting (not ready) by their nodes.
        guard try await eventually(.seconds(120), { try await world.assigned() == apps * replicas }) else {
            throw LiveError.failed("not every instance was placed")
        }
        try await world.report()

        // Ready → routed, ten applications at a time, while a prober sweeps every host with an
        // instance ready and not yet seen (the hosts at once, one request each per sweep).
        let prober = Prober(port: httpPort)
        let readyAt = Locked<[String: ContinuousClock.Instant]>([:])
        let routedAt = Locked<[String: ContinuousClock.Instant]>([:])
        let total = apps * replicas
        let sweeps = Task {
            let deadline = ContinuousClock.now + .seconds(90)
            while ContinuousClock.now < deadline {
                let ready = readyAt.withLock { $0 }
                let routed = routedAt.withLock { $0 }
                if routed.count == total { return true }
                let hosts = world.portsByHost().filter { _, ports in
                    ports.values.contains { ready[$0] != nil && routed[$0] == nil }
                }
                if hosts.isEmpty {
                    try? await Task.sleep(for: .milliseconds(2))
                    continue
                }
                await withTaskGroup(of: (String, Int?).self) { group in
                    for host in hosts.keys { group.addTask { (host, await prober.get(host: host)) } }
                    for await (host, port) in group {
                        guard let port, let id = hosts[host]?[port], ready[id] != nil else { continue }
                        let now = ContinuousClock.now
                        routedAt.withLock { if $0[id] == nil { $0[id] = now } }
                    }
                }
            }
            return false
        }
        let started = ContinuousClock.now
        for wave in stride(from: 0, to: apps, by: 10) {
            let wanted = Set((wave..<min(apps, wave + 10)).map { "app-\($0)" })
            let ready = try await world.makeReady(applications: wanted)
            readyAt.withLock { $0.merge(ready) { first, _ in first } }
            try await Task.sleep(for: .milliseconds(200))
        }
        let allRouted = await sweeps.value
        await prober.shutdown()
        let (ready, routedTimes) = (readyAt.withLock { $0 }, routedAt.withLock { $0 })
        guard allRouted else {
            throw LiveError.failed("\(total - routedTimes.count) instances were never routed")
        }
        let routed = Percentiles(ready.compactMap { id, ready in routedTimes[id].map { $0 - ready } })
        print(
            "ready → routed: \(routed.sorted.count) instances in "
                + String(format: "%.1f", (ContinuousClock.now - started).seconds)
                + " s, p50 \(routed.ms(50)) ms, p99 \(routed.ms(99)) ms (target ≤ 2000 ms)")

        // Take-down → stop: every application scaled down by one, once the controller trusts what
        // it has heard of the gateways (21 s after it started: before, only drain timeouts count).
        try await Task.sleep(until: controllerStarted + .seconds(22))
        let before = Set(try await world.assignedIDs())
        let down = (0..<apps).map { Self.application($0, replicas: replicas - 1) }.joined(separator: "\n---\n")
        let scaled = try await live.call(
            .POST, "/v1/apply", token: live.operatorToken, body: down, contentType: "application/yaml")
        let takeDown = ContinuousClock.now
        guard scaled.status == 200 else { throw LiveError.failed("scale down: \(scaled.body)") }
        var goneAt: [String: ContinuousClock.Instant] = [:]
        guard
            try await eventually(
                .seconds(60), every: .milliseconds(5),
                {
                    let now = ContinuousClock.now
                    for id in before.subtracting(try await world.assignedIDs()) where goneAt[id] == nil {
                        goneAt[id] = now
                    }
                    return goneAt.count == apps
                })
        else { throw LiveError.failed("\(apps - goneAt.count) taken-down instances were never let go") }
        await world.closeGone()
        let stops = Percentiles(goneAt.values.map { $0 - takeDown })
        print("take-down → stop: \(stops.sorted.count) instances, p50 \(stops.ms(50)) ms, p99 \(stops.ms(99)) ms")

        // Requests through nginx while ten applications roll out.
        let rolling = Set((0..<min(10, apps)).map { "app-\($0)" })
        let old = Set(try await world.assignedIDs())
        let load = HostLoad(port: httpPort, hosts: (0..<min(10, apps)).map(Self.host))
        try await Task.sleep(for: .seconds(1))
        let next = (0..<min(10, apps)).map { Self.application($0, replicas: replicas - 1, generation: "2") }
            .joined(separator: "\n---\n")
        _ = try await live.call(
            .POST, "/v1/apply", token: live.operatorToken, body: next, contentType: "application/yaml")
        let rolled = try await eventually(.seconds(120), every: .milliseconds(50)) {
            _ = try await world.makeReady(applications: rolling)
            await world.closeGone()
            let all = try await live.call(.GET, "/v1/instances?ministry=bench", token: live.operatorToken).items
            let mine = all.filter { rolling.contains($0["application"] as? String ?? "") }
            return mine.count == rolling.count * (replicas - 1)
                && mine.allSatisfy { !old.contains($0["id"] as? String ?? "") && $0["phase"] as? String == "Running" }
        }
        try await Task.sleep(for: .seconds(1))
        let counts = await load.stop()
        guard rolled else {
            let all = try await live.call(.GET, "/v1/instances?ministry=bench", token: live.operatorToken).items
            let left = all.filter { rolling.contains($0["application"] as? String ?? "") }.map {
                "\($0["id"] ?? "") g\($0["generation"] ?? "") \($0["phase"] ?? "") \($0["node"] ?? "-")"
            }
            throw LiveError.failed("the rollout did not complete: \(left)")
        }
        print(
            "rollout of \(rolling.count) applications: \(counts.ok) requests through nginx, "
                + "\(counts.failed) not 200, \(counts.errors) errors")
        Report.json(
            "gateway",
            [
                "instances": Double(routed.sorted.count), "readyToRoutedP50Ms": routed.value(50),
                "readyToRoutedP99Ms": routed.value(99), "takeDownToStopP50Ms": stops.value(50),
                "takeDownToStopP99Ms": stops.value(99),
                "rolloutRequests": Double(counts.ok + counts.failed + counts.errors),
                "rolloutErrors": Double(counts.failed + counts.errors),
            ])
    }
}

/// The simulated nodes and their instances' listeners.
final class World: Sendable {
    let live: LiveController
    let nodes: [SimulatedNode]
    let backends: Backends
    /// Each running instance's port, by id.
    private let ports = Locked<[String: Int]>([:])

    init(live: LiveController, nodes: [SimulatedNode], backends: Backends) {
        self.live = live
        self.nodes = nodes
        self.backends = backends
    }

    func join() async throws {
        for node in nodes {
            let reply = try await node.join(token: live.bootstrapToken, labels: ["zone": "z1"])
            guard reply.status == 201 else { throw LiveError.failed("join: \(reply.body)") }
        }
        try await report()
    }

    /// Each node's assigned instance ids.
    func assignments() async throws -> [(SimulatedNode, [String])] {
        var result: [(SimulatedNode, [String])] = []
        for node in nodes {
            let reply = try await node.call(.GET, "/v1/agent/nodes/\(node.name)/assignments?after=0&wait=0")
            let ids = try WireJSON.decoder().decode(AgentProtocol.Assignments.self, from: Data(reply.body.utf8))
                .instances.map(\.id)
            result.append((node, ids))
        }
        return result
    }

    func assignedIDs() async throws -> [String] { try await assignments().flatMap(\.1) }
    func assigned() async throws -> Int { try await assignedIDs().count }

    /// Reports every node's instances: those with a listener Running on it, the others Starting.
    func report() async throws {
        for (node, ids) in try await assignments() { try await report(node, ids) }
    }

    private func report(_ node: SimulatedNode, _ ids: [String]) async throws {
        let known = ports.withLock { $0 }
        let instances = ids.map { id in
            known[id].map { AgentProtocol.InstanceReport(id: id, phase: .running, ports: ["http": $0]) }
                ?? AgentProtocol.InstanceReport(id: id, phase: .starting)
        }
        // The capacity SimulatedNode joins with by default: 4 cpu, 8Gi, 100Gi, 50 slots.
        let capacity = Resources(cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 100 << 30, instances: 50)
        let status = AgentProtocol.Status(
            capacity: capacity, allocatable: capacity, labels: ["zone": "z1"], enforcement: .none,
            instances: instances, address: "127.0.0.1")
        let reply = try await node.send(.PUT, "/v1/agent/nodes/\(node.name)/status", status)
        guard reply.status == 200 else { throw LiveError.failed("status: \(reply.body)") }
    }

    /// Starts a listener for every assigned instance of `applications` without one, and reports
    /// them Running; returns when each report was acknowledged, by instance id.
    func makeReady(applications: Set<String>) async throws -> [String: ContinuousClock.Instant] {
        var ready: [String: ContinuousClock.Instant] = [:]
        for (node, ids) in try await assignments() {
            let fresh = ids.filter { id in
                ports.withLock { $0[id] } == nil
                    && applications.contains(id.split(separator: "-").dropFirst().dropLast().joined(separator: "-"))
            }
            guard !fresh.isEmpty else { continue }
            for id in fresh {
                let port = try await backends.open()
                ports.withLock { $0[id] = port }
            }
            try await report(node, ids)
            let now = ContinuousClock.now
            for id in fresh { ready[id] = now }
        }
        return ready
    }

    /// The listeners' ports of every exposed host, mapped to their instances.
    func portsByHost() -> [String: [Int: String]] {
        var result: [String: [Int: String]] = [:]
        for (id, port) in ports.withLock({ $0 }) {
            let app = id.split(separator: "-").dropFirst().dropLast().joined(separator: "-")
            result["\(app).bench.example", default: [:]][port] = id
        }
        return result
    }

    /// Closes the listeners of instances no longer assigned (their agent would stop them).
    func closeGone() async {
        guard let assigned = try? await Set(assignedIDs()) else { return }
        let gone = ports.withLock { ports in
            let gone = ports.filter { !assigned.contains($0.key) }
            for id in gone.keys { ports[id] = nil }
            return gone
        }
        for port in gone.values { await backends.close(port) }
    }
}

/// One request at a time through nginx for a host; the port its backend answered with.
final class Prober: Sendable {
    let port: Int
    let http: HTTPClient

    init(port: Int) {
        self.port = port
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func get(host: String) async -> Int? {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/")
        request.headers.add(name: "Host", value: host)
        guard let answer = try? await http.execute(request, timeout: .seconds(5)), answer.status == .ok,
            let body = try? await answer.body.collect(upTo: 1 << 10)
        else { return nil }
        return Int(String(buffer: body))
    }

    func shutdown() async { try? await http.shutdown() }
}

/// Clients sending requests through nginx to `hosts` in turn without pause, a connection each.
final class HostLoad: Sendable {
    struct Counts: Sendable {
        var ok = 0
        var failed = 0
        var errors = 0
    }
    final class Shared: Sendable {
        let counts = Locked(Counts())
        let stopped = Atomic<Bool>(false)
    }
    private let shared = Shared()
    private let http = HTTPClient(eventLoopGroupProvider: .singleton)
    private let workers: [Task<Void, Never>]

    init(port: Int, hosts: [String], workers: Int = 4) {
        var tasks: [Task<Void, Never>] = []
        for worker in 0..<workers {
            tasks.append(
                Task { [http, shared] in
                    var index = worker
                    while !shared.stopped.load(ordering: .relaxed) {
                        index += 1
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/")
                        request.headers.add(name: "Host", value: hosts[index % hosts.count])
                        request.headers.add(name: "Connection", value: "close")
                        do {
                            let answer = try await http.execute(request, timeout: .seconds(10))
                            _ = try await answer.body.collect(upTo: 1 << 10)
                            shared.counts.withLock { answer.status == .ok ? ($0.ok += 1) : ($0.failed += 1) }
                        } catch {
                            shared.counts.withLock { $0.errors += 1 }
                        }
                    }
                })
        }
        self.workers = tasks
    }

    func stop() async -> Counts {
        shared.stopped.store(true, ordering: .relaxed)
        for worker in workers { await worker.value }
        try? await http.shutdown()
        return shared.counts.withLock { $0 }
    }
}

/// HTTP listeners on loopback, each answering every request with its own port: the instances
/// the simulated nodes run. Closing one closes its connections too, as a stopped process would.
final class Backends: Sendable {
    private struct Listener {
        var server: any Channel
        var connections: [ObjectIdentifier: any Channel] = [:]
    }
    private let listeners = Locked<[Int: Listener]>([:])

    func open() async throws -> Int {
        let registry = self
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let port = channel.localAddress?.port ?? 0
                registry.track(port, channel)
                return channel.pipeline.addHandler(PortAnswer(port: port))
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = server.localAddress?.port ?? 0
        listeners.withLock { $0[port] = Listener(server: server) }
        return port
    }

    private func track(_ port: Int, _ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        listeners.withLock { $0[port]?.connections[key] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = listeners.withLock { $0[port]?.connections.removeValue(forKey: key) }
        }
    }

    func close(_ port: Int) async {
        guard let listener = listeners.withLock({ $0.removeValue(forKey: port) }) else { return }
        try? await listener.server.close()
        for connection in listener.connections.values { try? await connection.close() }
    }

    func closeAll() async {
        for port in listeners.withLock({ Array($0.keys) }) { await close(port) }
    }
}

/// Answers each request on a connection (GETs without bodies) with the listener's port.
final class PortAnswer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let port: Int
    private var pending = ""

    init(port: Int) { self.port = port }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readString(length: buffer.readableBytes) ?? ""
        while let end = pending.range(of: "\r\n\r\n") {
            let head = pending[..<end.lowerBound].lowercased()
            pending.removeSubrange(..<end.upperBound)
            let body = String(port)
            let close = head.contains("connection: close")
            let response =
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n"
                + (close ? "Connection: close\r\n" : "") + "\r\n" + body
            let write = context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response)))
            if close {
                write.whenComplete { _ in context.close(promise: nil) }
                return
            }
        }
    }
}
