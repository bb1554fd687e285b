import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel

/// `tansiq secret create NAME -m M --from-literal k=v --from-file k=PATH`.
struct SecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret", abstract: "A ministry's secrets: created and changed here or with apply, never shown.",
        subcommands: [SecretCreate.self])
}

/// `tansiq secret create`.
struct SecretCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a secret, or give an existing one new values (all its keys).",
        discussion: """
            The values are read from --from-literal KEY=VALUE and --from-file KEY=PATH (PATH - reads standard
            input: the value stays out of the shell's history), sent once over TLS and sealed by the controller;
            this command never prints them. Keys: letters, digits, '.', '_' and '-', at most 253; at most 1 MiB in
            all. Applying again with the same values changes nothing.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The secret's name (a DNS label).") var name: String
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "The ministry it belongs to.")
    var ministry: String
    @Option(name: .customLong("from-literal"), help: "KEY=VALUE (repeatable).") var literals: [String] = []
    @Option(name: .customLong("from-file"), help: "KEY=PATH, the file's bytes; PATH - reads stdin (repeatable).")
    var files: [String] = []

    func validate() throws {
        guard Names.isDNSLabel(name) else { throw ValidationError("\(name): not a DNS label") }
        guard Names.isDNSLabel(ministry) else { throw ValidationError("-m \(ministry): not a DNS label") }
        guard !literals.isEmpty || !files.isEmpty else {
            throw ValidationError("give the values with --from-literal KEY=VALUE or --from-file KEY=PATH")
        }
        var keys: Set<String> = []
        for pair in literals + files {
            guard let equals = pair.firstIndex(of: "=") else {
                throw ValidationError("\(pair.prefix(while: { $0 != "=" })): expected KEY=VALUE or KEY=PATH")
            }
            let key = String(pair[..<equals])
            guard Secret.isKey(key) else { throw ValidationError("\(key): not a valid key ([A-Za-z0-9._-], 1 to 253)") }
            guard keys.insert(key).inserted else { throw ValidationError("\(key): given twice") }
        }
        if files.filter({ $0.hasSuffix("=-") }).count > 1 {
            throw ValidationError("only one --from-file may read standard input")
        }
    }

    /// The values by key: literals as given, files' bytes.
    func values() throws -> [String: Data] {
        var values: [String: Data] = [:]
        for pair in literals {
            let equals = pair.firstIndex(of: "=")!
            values[String(pair[..<equals])] = Data(pair[pair.index(after: equals)...].utf8)
        }
        for pair in files {
            let equals = pair.firstIndex(of: "=")!
            let path = String(pair[pair.index(after: equals)...])
            let data =
                path == "-"
                ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
            guard let data else { throw CLIError.failed("cannot read \(path)") }
            values[String(pair[..<equals])] = data
        }
        let size = values.values.reduce(0) { $0 + $1.count }
        guard size <= Secret.maxSize else {
            throw ValidationError("the values are \(size) bytes in all; a secret holds at most 1 MiB")
        }
        return values
    }

    func run() async throws {
        let values = try values()
        // Every value travels as base64, so that bytes of any kind arrive as they are.
        let document: [String: JSONValue] = [
            "apiVersion": .string(apiVersion), "kind": .string("Secret"),
            "metadata": .object(["name": .string(name), "ministry": .string(ministry)]),
            "spec": .object(["data": .object(values.mapValues { .string("base64:" + $0.base64EncodedString()) })]),
        ]
        try await connection.withClient { client in
            let result: ApplyResult = try await client.call(
                .POST, "/v1/apply", body: Data(JSONValue.array([.object(document)]).text.utf8),
                contentType: "application/json")
            for item in result.items {
                Output.line("Secret/\(item.ministry ?? ministry)/\(item.name) \(item.action)")
            }
        }
    }
}

extension SecretView: Listed {
    static var kindName: String { "secret" }
    static func header(wide: Bool) -> [String] {
        ["NAME", "MINISTRY", "KEYS", "SIZE", "VERSION", "UPDATED BY"] + (wide ? ["UPDATED"] : [])
    }
    var listName: String { metadata.name }
    func row(wide: Bool, names: MinistryNames) -> [String] {
        [
            metadata.name, names.callName(metadata.ministry), keys.joined(separator: ","), String(size),
            String(version), updatedBy,
        ] + (wide ? [Cell.time(updatedAt)] : [])
    }
    var printable: any Encodable { SecretDocument(self) }
}

/// A secret as `get -o yaml` prints it: the API's object with `apiVersion` and `kind`, which
/// applies back without values (the stored ones stay).
struct SecretDocument: Encodable {
    let view: SecretView

    init(_ view: SecretView) { self.view = view }

    private enum Keys: String, CodingKey {
        case apiVersion, kind, metadata, keys, size, version, updatedBy, updatedAt
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(apiVersion, forKey: .apiVersion)
        try container.encode("Secret", forKey: .kind)
        try container.encode(view.metadata, forKey: .metadata)
        try container.encode(view.keys, forKey: .keys)
        try container.encode(view.size, forKey: .size)
        try container.encode(view.version, forKey: .version)
        try container.encode(view.updatedBy, forKey: .updatedBy)
        try container.encode(view.updatedAt, forKey: .updatedAt)
    }
}
