import ArgumentParser

/// `tansiq-bench`: benchmarks that print their figures. This executable links no server stack,
/// so its release build stays quick.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tansiq-bench",
        abstract: "Benchmarks of Tansiq's parts; each prints a human summary and, last, one JSON line.",
        subcommands: [ScheduleBench.self, APIBench.self, LoopsPassThrough.self, AgentPassThrough.self]
    )
}
