import ArgumentParser
import Foundation
import NIOCore
import TansiqAPI
import TansiqModel

/// `tansiq logs INSTANCE [-f] [--tail N] [--since T]` and `tansiq logs APP -m M [-f]`.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print what an instance writes, or every instance of an application.",
        discussion: """
            The output is read from the instance's node through the controller, with the caller's read
            rights (a ministry reads its own instances'). With -m, the argument is an application: every
            instance of it, each line prefixed with its id. A stopped instance's lines are readable until its
            node removes its directory (an hour after it left the node). -f follows new lines until the
            instance leaves its node.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "An instance id, or with -m an application's name.") var target: String
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "The application's ministry.")
    var ministry: String?
    @Flag(name: [.customShort("f"), .customLong("follow")], help: "Keep printing new lines.") var follow = false
    @Option(help: "Only the last N lines (of each instance).") var tail: Int?
    @Option(help: "Only lines written after this time (RFC 3339), to within a quarter of a second.")
    var since: String?

    func validate() throws {
        if let tail, !(0...1_000_000).contains(tail) { throw ValidationError("--tail \(tail): expected 0 to 1000000") }
        if let since, RFC3339.parse(since) == nil {
            throw ValidationError("--since \(since): expected an RFC 3339 time, e.g. 2026-12-06T10:00:00Z")
        }
        if let ministry, !Names.isDNSLabel(ministry) { throw ValidationError("-m \(ministry): not a DNS label") }
    }

    /// How long one stream may last: a followed log as long as it is read.
    var timeout: TimeAmount { follow ? .hours(24) : .seconds(60) }

    func run() async throws {
        let since = self.since.flatMap(RFC3339.parse)
        try await connection.withClient(readTimeout: follow ? .hours(24) : .seconds(75)) { client in
            guard let ministry else {
                try await client.logs(
                    instance: target, tail: tail, since: since, follow: follow, timeout: timeout
                ) { chunk in Output.line(String(buffer: chunk), terminator: "") }
                return
            }
            let instances = try await client.instances(ministry: ministry, application: target).items
            guard !instances.isEmpty else {
                throw CLIError.failed("application \(target) of ministry \(ministry) has no instances")
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for instance in instances where instance.node != nil {
                    // One after another unless following: each instance's lines together.
                    let lines = PrefixedLines(prefix: "[\(instance.id)] ")
                    let task: @Sendable () async throws -> Void = { [tail, follow, timeout] in
                        try await client.logs(
                            instance: instance.id, tail: tail, since: since, follow: follow, timeout: timeout
                        ) { chunk in lines.feed(chunk) }
                        lines.flush()
                    }
                    if follow { group.addTask(operation: task) } else { try await task() }
                }
                try await group.waitForAll()
            }
        }
    }
}

/// Prints the complete lines of a stream, each with a prefix; a last line without its newline
/// waits for the rest (or `flush`).
final class PrefixedLines: Sendable {
    let prefix: String
    private let pending = Locked<[UInt8]>([])

    init(prefix: String) { self.prefix = prefix }

    func feed(_ chunk: ByteBuffer) {
        let lines: [String] = pending.withLock { buffer in
            buffer += chunk.readableBytesView
            guard let last = buffer.lastIndex(of: 0x0A) else { return [] }
            let complete = buffer[...last]
            buffer.removeSubrange(...last)
            return complete.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map {
                String(decoding: $0, as: UTF8.self)
            }
        }
        if !lines.isEmpty { Output.line(lines.map { prefix + $0 }.joined(separator: "\n")) }
    }

    func flush() {
        let rest = pending.withLock { buffer in
            defer { buffer = [] }
            return buffer
        }
        if !rest.isEmpty { Output.line(prefix + String(decoding: rest, as: UTF8.self)) }
    }
}
