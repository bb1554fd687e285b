import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel

/// `tansiq describe node NAME | app NAME -m MINISTRY | ministry NAME`.
struct Describe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A readable page of an object: its spec's essentials, its status, its instances (with why any "
            + "waits) and its recent events.")

    enum Kind: String, ExpressibleByArgument, CaseIterable { case node, app, ministry }

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "node, app or ministry.") var kind: Kind
    @Argument(help: "Its name.") var name: String
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "The application's ministry.") var ministry:
        String?
    @OptionGroup var language: LanguageOption

    func validate() throws {
        if kind == .app && ministry == nil { throw ValidationError("an app belongs to a ministry: pass -m MINISTRY") }
    }

    func run() async throws {
        try await connection.withClient { client in
            let names = try await language.names(client)
            var page = Page()
            var instances: [Instance] = []
            var events: [Event] = []
            switch kind {
            case .node:
                let node = try await client.node(name)
                Self.describe(node, on: &page)
                instances = try await client.instances(node: name).items
                events = try await client.events(kind: "Node", name: name).items
            case .app:
                let app = try await client.application(ministry: ministry!, name: name)
                Self.describe(app, names: names, on: &page)
                instances = try await client.instances(ministry: ministry!, application: name).items
                events = try await client.events(kind: "Application", ministry: ministry!, name: name).items
                for instance in instances {
                    events += try await client.events(kind: "Instance", name: instance.id).items
                }
            case .ministry:
                let ministry = try await client.ministry(name)
                Self.describe(ministry, on: &page)
                instances = try await client.instances(ministry: name).items.filter { !$0.phase.isTerminal }
                events = try await client.events(kind: "Ministry", name: name).items
            }
            if !instances.isEmpty {
                page.section("Instances")
                let rows = instances.map { $0.row(wide: true, names: names) }
                page.block(Table.render([Instance.header(wide: true)] + rows))
            }
            for pending in instances where pending.phase == .pending {
                let code = pending.reasonCode.map { " [\($0.rawValue)]" } ?? ""
                page.line("\(pending.id) is pending\(code): \(pending.reason ?? "waiting to be scheduled")")
            }
            page.section("Events")
            if events.isEmpty { page.line("  none") }
            for event in events.sorted(by: { $0.seq < $1.seq }).suffix(30) {
                page.line("  \(RFC3339.format(event.time))  \(event.reason)  \(event.name): \(event.message)")
            }
            Output.line(page.text, terminator: "")
        }
    }

    static func describe(_ node: Node, on page: inout Page) {
        page.field("Name", node.name)
        page.field(
            "Phase", node.phase.rawValue + (node.cordoned ? ", cordoned" : "") + (node.draining ? ", draining" : ""))
        page.field("Isolation", node.isolation?.rawValue ?? "-")
        page.field("Enforcement", node.enforcement.rawValue)
        page.field("Labels", labels(node.labels))
        page.field(
            "Taints",
            node.taints.isEmpty
                ? "none" : node.taints.map { "\($0.key)=\($0.value):\($0.effect.rawValue)" }.joined(separator: ", "))
        page.field("Capacity", node.capacity.summary)
        page.field("Allocatable", node.allocatable.summary)
        page.field("Allocated", node.allocated.summary)
        page.field("Last heartbeat", Cell.time(node.lastHeartbeat))
    }

    static func describe(_ app: Application, names: MinistryNames, on page: inout Page) {
        let spec = app.spec
        page.field("Name", app.metadata.name)
        page.field("Ministry", names.callName(app.metadata.ministry))
        page.field("Labels", labels(app.metadata.labels))
        page.field("Generation", String(app.metadata.generation ?? 1))
        page.field("Priority", spec.priority.rawValue)
        page.field(
            "Replicas",
            "\(spec.replicas) desired, \(app.status?.ready ?? 0) ready, \(app.status?.updated ?? 0) up to date")
        if let image = spec.image {
            page.field("Image", image)
            page.field("Digest", app.status?.imageDigest ?? "-")
        }
        page.field(
            "Command",
            spec.run.command.isEmpty ? "(the image's entrypoint and cmd)" : spec.run.command.joined(separator: " "))
        if !spec.run.env.isEmpty {
            page.field(
                "Environment", spec.run.env.keys.sorted().map { "\($0)=\(spec.run.env[$0]!)" }.joined(separator: " "))
        }
        page.field(
            "Resources",
            "cpu \(Cell.cpu(spec.resources.cpuMillis)), memory \(Cell.bytes(spec.resources.memoryBytes)), storage \(Cell.bytes(spec.resources.storageBytes))"
        )
        page.field(
            "Ports",
            spec.ports.isEmpty
                ? "none"
                : spec.ports.map { "\($0.name) \($0.port == 0 ? "(assigned)" : String($0.port))" }.joined(
                    separator: ", "))
        page.field("Health", spec.health.map(health) ?? "none (ready once running)")
        page.field("Placement", placement(spec.placement))
        page.field(
            "Update",
            "maxSurge \(spec.update.maxSurge), maxUnavailable \(spec.update.maxUnavailable), progressDeadline \(spec.update.progressDeadline)"
        )
        page.field(
            "Restart",
            "\(spec.restart.policy.rawValue), backoff \(spec.restart.backoff) up to \(spec.restart.maxBackoff)")
        if let status = app.status {
            page.section("Status")
            page.field("Rollout", status.rollout + (status.message.map { ": \($0)" } ?? ""))
            page.field("Generations", "current \(status.currentGeneration), target \(status.targetGeneration)")
            page.field("Available", "\(status.available) of \(status.desired)")
        }
    }

    static func describe(_ ministry: Ministry, on page: inout Page) {
        let spec = ministry.spec
        page.field("Name", ministry.metadata.name)
        page.field("Code", spec.code)
        page.field("Display names", "\(spec.displayName.ar) / \(spec.displayName.en)")
        page.field("Cohort", spec.cohort ?? "none (neither lends nor borrows)")
        page.field("Weight", Cell.weight(spec.weight))
        page.field("Priorities", spec.priorities.map(\.rawValue).joined(separator: ", "))
        page.field("Quota", spec.quota.summary)
        if let status = ministry.status {
            page.section("Status")
            page.field("Effective quota", status.effectiveQuota.summary)
            page.field("Admitted", status.admitted.summary)
            page.field("Guaranteed in use", status.guaranteedInUse.summary)
            page.field("Borrowed", status.borrowed.summary)
            if spec.cohort != nil {
                page.field(
                    "Fair share",
                    "\(Cell.share(status.fairShare ?? 0)) of the cohort's lendable pool, weight \(Cell.weight(spec.weight))"
                )
            }
            if status.overQuota == true {
                page.field("Over quota", "yes: critical instances keep it above its quota; nothing new is admitted")
            }
            page.field("Runs as", status.runAs.map { "uid \($0.uid), gid \($0.gid)" } ?? "-")
        }
    }

    static func labels(_ labels: [String: String]) -> String {
        labels.isEmpty ? "none" : labels.keys.sorted().map { "\($0)=\(labels[$0]!)" }.joined(separator: ", ")
    }

    static func health(_ check: HealthCheck) -> String {
        let probe =
            switch check.probe {
            case .http(let path, let port): "http GET \(path) on \(port)"
            case .tcp(let port): "tcp \(port)"
            case .exec(let command): "exec \(command.joined(separator: " "))"
            }
        return "\(probe) every \(check.interval), timeout \(check.timeout), \(check.failureThreshold) failures"
    }

    static func placement(_ placement: Placement) -> String {
        var parts: [String] = []
        if !placement.datacentres.isEmpty {
            parts.append("datacentres \(placement.datacentres.joined(separator: ","))")
        }
        if !placement.nodeSelector.isEmpty { parts.append("nodes with \(labels(placement.nodeSelector))") }
        if let spread = placement.spread { parts.append("spread by \(spread)") }
        if let most = placement.maxPerNode { parts.append("at most \(most) per node") }
        if !placement.tolerations.isEmpty { parts.append("\(placement.tolerations.count) toleration(s)") }
        return parts.isEmpty ? "anywhere" : parts.joined(separator: "; ")
    }
}

/// A page of aligned `Field:  value` lines and titled sections.
struct Page {
    private(set) var text = ""

    mutating func field(_ name: String, _ value: String) {
        text += (name + ":").padding(toLength: max(name.count + 2, 20), withPad: " ", startingAt: 0) + value + "\n"
    }

    mutating func section(_ title: String) { text += "\n\(title):\n" }
    mutating func line(_ line: String) { text += line + "\n" }
    mutating func block(_ block: String) { text += block }
}
