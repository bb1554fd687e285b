import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel

/// `tansiq node cordon|uncordon|drain|remove|label|taint NAME ...`.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Operate nodes: cordon, uncordon, drain (waits, with progress), remove, label, taint.",
        discussion: """
            label NAME k=v ... sets operator labels (k- removes one); taint NAME k=v:NoSchedule ... sets the
            node's taints (the list replaces the node's).
            """)

    enum Verb: String, ExpressibleByArgument, CaseIterable { case cordon, uncordon, drain, remove, label, taint }

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "cordon, uncordon, drain, remove, label or taint.") var verb: Verb
    @Argument(help: "The node.") var name: String
    @Argument(help: "label: k=v or k-; taint: k=v:EFFECT.") var values: [String] = []
    @Option(help: "How long drain waits (e.g. 10m).") var timeout: String = "10m"

    func validate() throws {
        if (verb == .label || verb == .taint) && values.isEmpty { throw ValidationError("\(verb) needs values") }
        for value in values where verb == .taint {
            let parts = value.split(separator: ":")
            guard parts.count == 2, ["NoSchedule", "NoExecute"].contains(String(parts[1])) else {
                throw ValidationError("taint \(value): expected KEY=VALUE:NoSchedule or :NoExecute")
            }
        }
        for value in values where verb == .label {
            guard value.hasSuffix("-") || value.contains("=") else {
                throw ValidationError("label \(value): k=v or k-")
            }
        }
    }

    func run() async throws {
        try await connection.withClient { client in
            switch verb {
            case .cordon, .uncordon:
                _ = try await client.nodeAction(name, verb.rawValue)
                Output.line("node \(name) \(verb == .cordon ? "cordoned" : "uncordoned")")
            case .remove:
                _ = try await client.deleteNode(name)
                Output.line("node \(name) removed")
            case .label:
                var labels: [String: String?] = [:]
                for value in values {
                    if value.hasSuffix("-") {
                        labels[String(value.dropLast())] = .some(nil)
                    } else {
                        let pair = value.split(separator: "=", maxSplits: 1).map(String.init)
                        labels[pair[0]] = pair.count > 1 ? pair[1] : ""
                    }
                }
                _ = try await client.patchNode(name, NodePatch(labels: labels))
                Output.line("node \(name) labelled")
            case .taint:
                let taints = values.map { value -> Taint in
                    let parts = value.split(separator: ":").map(String.init)
                    let pair = parts[0].split(separator: "=", maxSplits: 1).map(String.init)
                    return Taint(
                        key: pair[0], value: pair.count > 1 ? pair[1] : "", effect: TaintEffect(rawValue: parts[1])!)
                }
                _ = try await client.patchNode(name, NodePatch(taints: taints))
                Output.line("node \(name) tainted")
            case .drain:
                _ = try await client.nodeAction(name, "drain")
                Output.line("node \(name) draining")
                let deadline = Date().addingTimeInterval((try? Span.parseSeconds(timeout)) ?? 600)
                var progress = Progress()
                while true {
                    let node = try await client.node(name)
                    let left = node.allocated.instances
                    if !node.draining {
                        progress.finish("node \(name) drained (still cordoned)")
                        return
                    }
                    progress.update("node \(name): \(left) instance(s) left")
                    if Date() > deadline { throw CLIError.failed("drain of \(name) timed out: \(left) left") }
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
        }
    }
}

extension Span {
    /// Seconds of a duration like `10m`.
    static func parseSeconds(_ text: String) throws -> TimeInterval { try parse(text).seconds }
}
