import ArgumentParser
import Foundation
import TansiqModel

/// `tansiq-bench decode`: what reading a stored state costs in JSON decoding alone — the bulk of a
/// controller's start, and of a new leader's takeover.
struct DecodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Time to decode stored instances (their JSON bodies, as the store keeps them), and to write them.",
        discussion: """
            Encodes --instances instances as the store does (WireJSON), then decodes them one by one, and, for
            comparison, decodes the same bodies into untyped values. Last, times writing them again: directly
            (WireJSON's writer, as the store and the API do) and through Foundation's encoder (the same bytes).
            """)

    @Option(help: "Instances.") var instances: Int = 20000

    func validate() throws {
        guard instances >= 1 else { throw ValidationError("--instances must be at least 1") }
    }

    func run() throws {
        let encoder = WireJSON.encoder()
        let now = Date()
        var bodies: [Data] = []
        var all: [Instance] = []
        for i in 0..<instances {
            var instance = Instance(
                id: "bench-app-\(i / 1000)-\(i)", ministry: "bench", application: "app-\(i / 1000)",
                node: "bench-\(i % 2000)", phase: .running, reason: nil,
                resources: ResourceRequest(cpuMillis: 100, memoryBytes: 64 << 20), createdAt: now)
            instance.assignedAt = now
            instance.ports = ["http": 30000 + i % 1000]
            bodies.append(try encoder.encode(instance))
            all.append(instance)
        }
        let decoder = WireJSON.decoder()
        let start = ContinuousClock.now
        for body in bodies { _ = try decoder.decode(Instance.self, from: body) }
        let typed = (ContinuousClock.now - start).inSeconds
        let untypedStart = ContinuousClock.now
        for body in bodies { _ = try JSONSerialization.jsonObject(with: body) }
        let untyped = (ContinuousClock.now - untypedStart).inSeconds
        print(
            "\(instances) instances (\(bodies[0].count) bytes each): decoded in \(String(format: "%.3f", typed)) s "
                + "(\(String(format: "%.1f", typed / Double(instances) * 1e6)) µs each); as untyped JSON "
                + "\(String(format: "%.3f", untyped)) s")
        let directStart = ContinuousClock.now
        for instance in all { _ = try WireJSON.encode(instance, with: encoder) }
        let direct = (ContinuousClock.now - directStart).inSeconds
        let foundationStart = ContinuousClock.now
        for instance in all { _ = try encoder.encode(instance) }
        let foundation = (ContinuousClock.now - foundationStart).inSeconds
        print(
            "written again: directly \(String(format: "%.2f", direct / Double(instances) * 1e6)) µs each, "
                + "through Foundation's encoder \(String(format: "%.2f", foundation / Double(instances) * 1e6)) µs each "
                + "(\(String(format: "%.1f", foundation / direct))×)")
    }
}
