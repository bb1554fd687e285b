import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `tansiq-bench api ...`: the benchmarks over real HTTPS live in `tansiq-bench-api`, a separate
/// binary built beside this one (it links the HTTP client and TLS, which this one does not).
/// This command hands its arguments to it.
struct APIBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Benchmarks of the controller's API over HTTPS (runs tansiq-bench-api beside this binary).",
        discussion: "Example: tansiq-bench api apply --requests 300 --clients 8. See `tansiq-bench-api --help`."
    )

    @Argument(parsing: .captureForPassthrough, help: "The benchmark and its options, e.g. `apply --clients 8`.")
    var arguments: [String] = []

    func run() throws { try Self.handOver(arguments) }

    /// Replaces this process with `tansiq-bench-api ARGUMENTS`.
    static func handOver(_ arguments: [String]) throws {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let binary = here.appendingPathComponent("tansiq-bench-api").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            FileHandle.standardError.write(
                Data(
                    "tansiq-bench: error: \(binary) is not built; build it with `swift build -c release --product tansiq-bench-api`\n"
                        .utf8))
            throw ExitCode(1)
        }
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        execv(binary, argv)
        FileHandle.standardError.write(Data("tansiq-bench: error: cannot run \(binary)\n".utf8))
        throw ExitCode(1)
    }
}

/// `tansiq-bench loops`: the control loops' benchmark, run by `tansiq-bench-api loops`.
struct LoopsPassThrough: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loops",
        abstract: "Apply-to-assigned and failure-to-replaced times (runs tansiq-bench-api loops beside this binary).",
        discussion: "Example: tansiq-bench loops --nodes 2000. See `tansiq-bench-api loops --help`."
    )

    @Argument(parsing: .captureForPassthrough, help: "Options of `tansiq-bench-api loops`.")
    var arguments: [String] = []

    func run() throws { try APIBench.handOver(["loops"] + arguments) }
}

/// `tansiq-bench agent`: the agent's costs, run by `tansiq-bench-api agent`.
struct AgentPassThrough: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract:
            "Agent size, idle memory and CPU, and start latency (runs tansiq-bench-api agent beside this binary).",
        discussion: "Example: tansiq-bench agent --idle-seconds 60. See `tansiq-bench-api agent --help`."
    )

    @Argument(parsing: .captureForPassthrough, help: "Options of `tansiq-bench-api agent`.")
    var arguments: [String] = []

    func run() throws { try APIBench.handOver(["agent"] + arguments) }
}

/// `tansiq-bench soak`: memory and store size under churn, run by `tansiq-bench-api soak`.
struct SoakPassThrough: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "The controller's memory and store size under hours of churn (runs tansiq-bench-api soak beside "
            + "this binary).",
        discussion: "Example: tansiq-bench soak --nodes 2000 --minutes 30. See `tansiq-bench-api soak --help`."
    )

    @Argument(parsing: .captureForPassthrough, help: "Options of `tansiq-bench-api soak`.")
    var arguments: [String] = []

    func run() throws { try APIBench.handOver(["soak"] + arguments) }
}

/// `tansiq-bench failover`: a leader killed on PostgreSQL, run by `tansiq-bench-api failover`.
struct FailoverPassThrough: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Time from kill -9 of the leader to the first apply acknowledged by the next (runs tansiq-bench-api "
            + "failover beside this binary).",
        discussion:
            "Example: tansiq-bench failover --nodes 2000 --instances 20000. See `tansiq-bench-api failover --help`."
    )

    @Argument(parsing: .captureForPassthrough, help: "Options of `tansiq-bench-api failover`.")
    var arguments: [String] = []

    func run() throws { try APIBench.handOver(["failover"] + arguments) }
}

/// `tansiq-bench gateway ...`: hands over to `tansiq-bench-api gateway`.
struct GatewayPassThrough: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Ready → routed and take-down → stop through a real nginx (runs tansiq-bench-api gateway beside "
            + "this binary).",
        discussion: "Example: tansiq-bench gateway --apps 100 --replicas 3. See `tansiq-bench-api gateway --help`."
    )

    @Argument(parsing: .captureForPassthrough, help: "Options of `tansiq-bench-api gateway`.")
    var arguments: [String] = []

    func run() throws { try APIBench.handOver(["gateway"] + arguments) }
}
