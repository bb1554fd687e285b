import Foundation
import TansiqWire
import Testing

@testable import TansiqModel

@Suite("Instances written directly as wire JSON")
struct WireJSONWriterTests {
    /// Strings that need escaping, or not: quotes, backslashes, slashes, control characters,
    /// Arabic, emoji, combining marks, the empty string.
    static let texts = [
        "", "plain", #"a "quoted" word"#, #"back\slash"#, "a/b/c", "line\nbreak\ttab\r\u{8}\u{C}", "\u{0}\u{1}\u{1F}",
        "وزارة الصحة", "🇸🇦 e\u{301}", "\u{7F}\u{80}\u{FFFF}",
    ]

    static func instance(_ seed: Int) -> Instance {
        var rng = SystemRandomNumberGenerator()
        let text = { texts[Int.random(in: 0..<texts.count, using: &rng)] }
        var instance = Instance(
            id: "ministry-\(seed)/app-\(text())-\(seed)", ministry: text(), application: text(),
            generation: Int64.random(in: 0...Int64.max, using: &rng), node: Bool.random() ? text() : nil,
            phase: InstancePhase.allCases.randomElement()!, reason: Bool.random() ? text() : nil,
            guaranteed: Bool.random(), priority: Priority.allCases.randomElement()!,
            resources: ResourceRequest(
                cpuMillis: Int64.random(in: 0...1_000_000), memoryBytes: Int64.random(in: 0...(1 << 50)),
                storageBytes: Int64.random(in: 0...(1 << 45))),
            ports: Bool.random() ? [:] : [text(): Int.random(in: 1...65535), "http": 8080, "b": 1],
            exitCode: Bool.random() ? Int.random(in: -255...255) : nil, restarts: Int.random(in: 0...1000),
            message: Bool.random() ? text() : nil,
            createdAt: Bool.random() ? Date(timeIntervalSince1970: Double.random(in: 0...4e9)) : nil)
        instance.reasonCode = Bool.random() ? PendingReason.allCases.randomElement()! : nil
        instance.imageDigest = Bool.random() ? "sha256:" + String(repeating: "ab", count: 32) : nil
        instance.assignedAt = Bool.random() ? Date(timeIntervalSince1970: Double.random(in: 0...4e9)) : nil
        instance.endedAt = Bool.random() ? Date() : nil
        instance.terminating =
            Bool.random()
            ? Instance.Terminating(
                since: Date(timeIntervalSince1970: Double.random(in: 0...4e9)),
                endpointsVersion: Int64.random(in: 0...Int64.max),
                drainTimeoutMilliseconds: Int64.random(in: 0...100_000))
            : nil
        return instance
    }

    @Test("the same bytes as Foundation's encoder with the wire settings, for 2,000 varied instances")
    func sameBytes() throws {
        let encoder = WireJSON.encoder()
        for seed in 0..<2_000 {
            let instance = Self.instance(seed)
            let expected = try encoder.encode(instance)
            let direct = try WireJSON.encode(instance, with: encoder)
            #expect(
                direct == expected,
                "\(String(decoding: direct, as: UTF8.self))\n≠\n\(String(decoding: expected, as: UTF8.self))")
            if direct != expected { break }  // one difference is enough to read
        }
    }
}

@Suite("Assignment answers written directly as wire JSON")
struct AssignmentsWireJSONTests {
    static func assignment(_ seed: Int) -> AgentProtocol.Assignment {
        var rng = SystemRandomNumberGenerator()
        let texts = WireJSONWriterTests.texts
        let text = { texts[Int.random(in: 0..<texts.count, using: &rng)] }
        let span = { Span(milliseconds: Int64.random(in: 0...100_000_000, using: &rng)) }
        let probes: [HealthCheck.Probe] = [
            .http(path: "/" + text(), port: text()), .tcp(port: text()), .exec(command: [text(), text()]),
        ]
        var env: [String: String] = [:]
        var secretEnv: [String: SecretKeyRef] = [:]
        for _ in 0..<Int.random(in: 0...4, using: &rng) { env[text() + "\(Int.random(in: 0...20))"] = text() }
        // A name in both maps goes out as the secret reference, as Foundation's encoding has it.
        for _ in 0..<Int.random(in: 0...3, using: &rng) {
            secretEnv[text()] = SecretKeyRef(secret: text(), key: text())
        }
        var assignment = AgentProtocol.Assignment(
            id: "health-portal-\(seed)", ministry: text(), application: text(),
            generation: Int64.random(in: 0...Int64.max, using: &rng),
            resources: ResourceRequest(
                cpuMillis: Int64.random(in: 0...1_000_000), memoryBytes: Int64.random(in: 0...(1 << 50)),
                storageBytes: Int64.random(in: 0...(1 << 45))),
            run: RunSpec(
                command: (0..<Int.random(in: 1...4, using: &rng)).map { _ in text() }, env: env,
                secretEnv: secretEnv, workingDirectory: Bool.random() ? text() : nil),
            ports: (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                PortSpec(name: text(), port: Int.random(in: 0...65535))
            },
            health: Bool.random()
                ? HealthCheck(
                    probe: probes.randomElement()!, interval: span(), timeout: span(),
                    failureThreshold: Int.random(in: 1...10))
                : nil,
            restart: RestartPolicy(policy: RestartMode.allCases.randomElement()!, backoff: span(), maxBackoff: span()),
            stopAfterDisconnect: Bool.random() ? span() : nil,
            image: Bool.random()
                ? AgentProtocol.AssignedImage(reference: text(), digest: "sha256:" + String(repeating: "cd", count: 32))
                : nil,
            runAs: Bool.random() ? RunAs(uid: Int.random(in: 0...1 << 31), gid: Int.random(in: 0...1 << 31)) : nil)
        if Bool.random() {
            assignment.secrets = (0..<Int.random(in: 0...2, using: &rng)).map { _ in
                AgentProtocol.AssignedSecret(
                    name: text(), version: Int64.random(in: 0...1000), mount: Bool.random() ? "/" + text() : nil,
                    data: [text(): text(), "KEY_\(seed)": "c2VjcmV0"])
            }
        }
        return assignment
    }

    @Test("the same bytes as Foundation's encoder with the wire settings, for 1,000 varied answers")
    func sameBytes() throws {
        let encoder = WireJSON.encoder()
        for seed in 0..<1_000 {
            let answer = AgentProtocol.Assignments(
                resourceVersion: Int64.random(in: 0...Int64.max),
                instances: (0..<Int.random(in: 0...4)).map { Self.assignment(seed * 10 + $0) },
                epoch: Bool.random() ? Int64.random(in: 1...1000) : nil)
            let expected = try encoder.encode(answer)
            let direct = try WireJSON.encode(answer, with: encoder)
            #expect(
                direct == expected,
                "\(String(decoding: direct, as: UTF8.self))\n≠\n\(String(decoding: expected, as: UTF8.self))")
            if direct != expected { break }
        }
    }
}
