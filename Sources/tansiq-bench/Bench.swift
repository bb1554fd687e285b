import ArgumentParser
import Foundation

/// `tansiq-bench`: benchmarks that print their figures. This executable links no server stack,
/// so its release build stays quick.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tansiq-bench",
        abstract: "Benchmarks of Tansiq's parts; each prints a human summary and, last, one JSON line.",
        subcommands: [
            ScheduleBench.self, APIBench.self, LoopsPassThrough.self, AgentPassThrough.self, SoakPassThrough.self,
            FailoverPassThrough.self, DecodeBench.self, GatewayPassThrough.self,
        ]
    )
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Prints `value` as the one JSON line a benchmark ends with (sorted keys).
func printJSONLine(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
