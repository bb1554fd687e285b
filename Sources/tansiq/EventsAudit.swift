import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel

/// `tansiq events [-m M] [--for KIND/NAME] [-w]`.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "What happened: placements, preemptions, rollouts, node failures, quota changes (newest last).")

    @OptionGroup var connection: ConnectionOptions
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "Only this ministry's.") var ministry: String?
    @Option(name: .customLong("for"), help: "Only one object's: KIND/NAME, e.g. Application/e-payment, Node/n1.")
    var object: String?
    @Option(help: "How many of the newest to show first.") var limit: Int = 50
    @Flag(name: [.customShort("w"), .customLong("watch")], help: "Then print each new event as it happens.")
    var watch = false

    func validate() throws {
        if let object, object.split(separator: "/").count != 2 {
            throw ValidationError("--for \(object): expected KIND/NAME")
        }
        guard (1...5000).contains(limit) else { throw ValidationError("--limit \(limit): 1 to 5000") }
    }

    func run() async throws {
        let parts = object?.split(separator: "/").map(String.init)
        try await connection.withClient { client in
            var path =
                "/v1/events"
                + TansiqClient.query([
                    ("ministry", ministry), ("kind", parts?[0]), ("name", parts?[1]), ("limit", String(limit)),
                ])
            var last: Int64 = 0
            var version: Int64?
            repeat {
                let page: ItemList<Event> = try await client.call(.GET, path, timeout: .seconds(75))
                for event in page.items where event.seq > last {
                    Output.line(
                        "\(RFC3339.format(event.time))  \(event.kind)/\([event.ministry, event.name].compactMap { $0 }.joined(separator: "/"))  "
                            + "\(event.reason)  \(event.message)")
                    last = event.seq
                }
                version = page.resourceVersion
                path =
                    "/v1/events"
                    + TansiqClient.query([
                        ("ministry", ministry), ("kind", parts?[0]), ("name", parts?[1]), ("limit", String(limit)),
                        ("watch", "true"), ("after", String(version ?? 0)), ("wait", "30"),
                    ])
            } while watch
        }
    }
}

/// `tansiq audit [--since T] [--subject S] [-w]` and `tansiq audit verify [--from SEQ]`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit log (auditors and operators): every change people made, and every refusal.",
        subcommands: [AuditLogCommand.self, AuditVerifyCommand.self], defaultSubcommand: AuditLogCommand.self)
}

/// `tansiq audit verify [--from SEQ]`: exit 0 when the chain holds, 1 when a record was changed,
/// removed or inserted (named on stderr).
struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Walk the audit log's hash chain and its signed checkpoints; name the first record that was "
            + "changed, removed or inserted.")

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "The first record to check (the one before it is taken as given).") var from: Int64 = 1

    func validate() throws {
        guard from >= 1 else { throw ValidationError("--from \(from): expected a record number of 1 or more") }
    }

    func run() async throws {
        try await connection.withClient { client in
            let report = try await client.verifyAudit(from: from)
            if let problem = report.problem {
                Output.error("audit log: record \(problem.seq) \(problem.kind): \(problem.message)")
                throw ExitCode(1)
            }
            let last = report.head?.seq ?? (report.from - 1)
            Output.line(
                "audit log verified: \(report.checked) records (\(report.from) to \(last)), "
                    + "\(report.checkpoints) signed checkpoints, signed through record \(report.signedThrough), "
                    + "\(report.unsigned) since the last checkpoint")
        }
    }
}

/// `tansiq audit [log] [--since T] [--subject S] [-w]`.
struct AuditLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print the audit log (auditors and operators): every change people made, and every refusal.")

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Only records from this time on (RFC 3339).") var since: String?
    @Option(help: "Only this subject's records.") var subject: String?
    @Flag(name: [.customShort("w"), .customLong("watch")], help: "Then print each new record as it is written.")
    var watch = false

    func validate() throws {
        if let since, RFC3339.parse(since) == nil {
            throw ValidationError("--since \(since): an RFC 3339 time (2027-01-01T00:00:00Z)")
        }
    }

    func run() async throws {
        let from = since.flatMap(RFC3339.parse)
        try await connection.withClient { client in
            var after: Int64 = 0
            while true {
                let page = try await client.audit(after: after, limit: 1000)
                for record in page.items
                where (from.map { record.time >= $0 } ?? true) && (subject.map { record.subject == $0 } ?? true) {
                    Output.line(
                        "\(record.seq)  \(RFC3339.format(record.time))  \(record.subject) "
                            + "(\(record.role))  \(record.action)  \(record.object)  \(record.result)"
                            + (record.message.map { ": \($0)" } ?? ""))
                }
                after = page.next
                if page.items.count == 1000 { continue }
                guard watch else { return }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// `tansiq completion bash|zsh|fish`.
struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion",
        abstract: "Print a shell completion script: `source <(tansiq completion bash)`, or put it where your shell "
            + "reads completions.")

    enum Shell: String, ExpressibleByArgument, CaseIterable { case bash, zsh, fish }

    @Argument(help: "bash, zsh or fish.") var shell: Shell

    func run() throws {
        Output.line(Tansiq.completionScript(for: CompletionShell(rawValue: shell.rawValue)!), terminator: "")
    }
}
