import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel

/// `tansiq request capacity|approve|deny`.
struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request", abstract: "File, approve or deny capacity requests.",
        subcommands: [RequestCapacity.self, RequestApprove.self, RequestDeny.self])
}

/// `tansiq request capacity -m MINISTRY [--name N] [--cpu Q] ... --reason TEXT [--until TIME]`.
struct RequestCapacity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity", abstract: "Ask for more quota for a ministry.")

    @OptionGroup var connection: ConnectionOptions
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "The ministry.") var ministry: String
    @Option(help: "A name (generated if not given).") var name: String?
    @Option(help: "Extra cpu, e.g. 2 or 500m.") var cpu: String?
    @Option(help: "Extra memory, e.g. 4Gi.") var memory: String?
    @Option(help: "Extra storage, e.g. 100Gi.") var storage: String?
    @Option(help: "Extra instances.") var instances: Int?
    @Option(help: "Why, for the approver.") var reason: String
    @Option(help: "When a temporary grant ends (RFC 3339).") var until: String?

    func validate() throws {
        if cpu == nil && memory == nil && storage == nil && instances == nil {
            throw ValidationError("ask for at least one of --cpu, --memory, --storage, --instances")
        }
    }

    func run() async throws {
        try await connection.withClient { client in
            let body = FiledRequest(
                metadata: .init(name: name, ministry: ministry),
                spec: .init(
                    add: .init(cpu: cpu, memory: memory, storage: storage, instances: instances), reason: reason,
                    until: until))
            let created: CapacityRequest = try await client.call(.POST, "/v1/capacity-requests", json: body)
            Output.line(
                "capacity request \(created.metadata.name) filed for \(ministry); an operator approves or denies it")
        }
    }
}

/// What approving and denying share: the request and a comment.
struct DecisionOptions: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The request.") var name: String
    @Option(help: "A comment for the requester.") var comment: String?

    func decide(_ verb: String) async throws {
        try await connection.withClient { client in
            _ = try await client.decide(name, approve: verb == "approve", comment: comment)
            Output.line("capacity request \(name) \(verb == "approve" ? "approved" : "denied")")
        }
    }
}

/// `tansiq request approve NAME [--comment TEXT]`.
struct RequestApprove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a pending request (an operator other than its requester).")
    @OptionGroup var options: DecisionOptions
    func run() async throws { try await options.decide("approve") }
}

/// `tansiq request deny NAME [--comment TEXT]`.
struct RequestDeny: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny", abstract: "Deny a pending request (an operator other than its requester).")
    @OptionGroup var options: DecisionOptions
    func run() async throws { try await options.decide("deny") }
}

/// The body of `POST /v1/capacity-requests` as the CLI files it: quantities as written (the
/// controller checks them), the name left to the controller when not given.
struct FiledRequest: Encodable {
    struct Metadata: Encodable {
        var name: String?
        var ministry: String
    }
    struct Add: Encodable {
        var cpu: String?
        var memory: String?
        var storage: String?
        var instances: Int?
    }
    struct Spec: Encodable {
        var add: Add
        var reason: String
        var until: String?
    }
    var metadata: Metadata
    var spec: Spec
}
