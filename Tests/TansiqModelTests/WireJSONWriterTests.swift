import Foundation
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
