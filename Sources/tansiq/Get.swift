import ArgumentParser
import Foundation
import TansiqAPI
import TansiqModel

/// `tansiq get TYPE [NAME ...] [-m M | -A] [-l SELECTOR] [-w] [-o FORMAT] [--sort-by F] [--no-headers] [--lang ar|en]`.
struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List objects the caller may read, or some of them by name.",
        discussion:
            "TYPE: nodes, apps (applications), instances, ministries, requests (capacity-requests), secrets, tokens "
            + "or bootstrap-tokens; singular forms work too (a secret reads its keys, size and version, never a value). Tables have aligned columns; -o json and -o yaml print the "
            + "API's objects exactly (integers as integers, text as text), and the appliable kinds as manifests, so "
            + "that `get app NAME -m M -o yaml | tansiq apply -f -` applies back; -o name prints TYPE/NAME lines. "
            + "-l filters by labels on the controller (k=v, k!=v, k, !k, comma-separated); an instance's labels are "
            + "its application's. --sort-by takes a field path of the printed object (.metadata.name, .phase). -w "
            + "prints the list, then a line for each object that changes, until interrupted.")

    enum Resource: String, CaseIterable {
        case nodes, apps, instances, ministries, requests, secrets, tokens, bootstrapTokens = "bootstrap-tokens"

        init?(word: String) {
            let aliases: [String: Resource] = [
                "node": .nodes, "nodes": .nodes, "no": .nodes, "app": .apps, "apps": .apps, "application": .apps,
                "applications": .apps, "instance": .instances, "instances": .instances, "ministry": .ministries,
                "ministries": .ministries, "request": .requests, "requests": .requests,
                "capacity-request": .requests, "capacity-requests": .requests, "token": .tokens, "tokens": .tokens,
                "bootstrap-token": .bootstrapTokens, "bootstrap-tokens": .bootstrapTokens, "secret": .secrets,
                "secrets": .secrets,
            ]
            guard let resource = aliases[word.lowercased()] else { return nil }
            self = resource
        }
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, wide, json, yaml, name
    }

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "nodes, apps, instances, ministries, requests, secrets, tokens or bootstrap-tokens.")
    var type: String
    @Argument(help: "Names (or instance ids) to show; all when none.") var names: [String] = []
    @Option(name: [.customShort("m"), .customLong("ministry")], help: "Only this ministry.") var ministry: String?
    @Flag(name: [.customShort("A"), .customLong("all-ministries")], help: "Every ministry the caller may read.")
    var all = false
    @Option(name: [.customShort("l"), .customLong("selector")], help: "A label selector: k=v,k!=v,k,!k.")
    var selector: String?
    @Option(name: [.customShort("o"), .customLong("output")], help: "table, wide, json, yaml or name.")
    var output: Format = .table
    @Option(name: .customLong("sort-by"), help: "A field path of the printed object, e.g. .metadata.name.")
    var sortBy: String?
    @Flag(name: .customLong("no-headers"), help: "Tables without their header line.") var noHeaders = false
    @Flag(name: [.customShort("w"), .customLong("watch")], help: "After the list, a line per change.")
    var watch = false
    @OptionGroup var language: LanguageOption

    var resource: Resource { Resource(word: type)! }

    func validate() throws {
        guard Resource(word: type) != nil else {
            throw ValidationError(
                "\(type): not a type; nodes, apps, instances, ministries, requests, secrets, tokens or bootstrap-tokens"
            )
        }
        if (resource == .apps || resource == .secrets) && ministry == nil && !all {
            throw ValidationError("\(resource.rawValue) belong to a ministry: pass -m MINISTRY or -A")
        }
        if let selector {
            do throws(QuantityError) { _ = try LabelSelector(selector) } catch {
                throw ValidationError("-l \(selector): \(error.message)")
            }
        }
        if watch && (output == .json || output == .yaml) {
            throw ValidationError("-w prints lines: use -o table, wide or name")
        }
    }

    func run() async throws {
        try await connection.withClient { client in
            let names = try await language.names(client)
            switch resource {
            case .nodes: try await show(client, names, Node.self) { try await fetchNodes(client, $0) }
            case .apps: try await show(client, names, Application.self) { try await fetchApps(client, $0) }
            case .secrets:
                try await show(client, names, SecretView.self) { after in
                    try await perMinistry(client, after) { "/v1/ministries/\($0)/secrets" }
                }
            case .instances:
                try await show(client, names, Instance.self) {
                    try await list(client, "/v1/instances", [("ministry", ministry)], $0)
                }
            case .ministries:
                try await show(client, names, Ministry.self) {
                    var got: ItemList<Ministry> = try await list(client, "/v1/ministries", [], $0)
                    got.items = got.items.filter { ministry == nil || $0.metadata.name == ministry }
                    return got
                }
            case .requests:
                try await show(client, names, CapacityRequest.self) {
                    try await list(client, "/v1/capacity-requests", [("ministry", ministry)], $0)
                }
            case .tokens, .bootstrapTokens:
                let bootstrap = resource == .bootstrapTokens
                try await show(client, names, TokenView.self) { after in
                    var got: ItemList<TokenView> = try await list(client, "/v1/tokens", [], after)
                    got.items = got.items.filter { ($0.role == .bootstrap) == bootstrap }
                    return got
                }
            }
        }
    }

    /// A list route with the selector, and a watch once `after` is set.
    func list<Item: Listed & Codable>(
        _ client: TansiqClient, _ path: String, _ query: [(String, String?)], _ after: Int64?
    ) async throws -> ItemList<Item> {
        var pairs = query + [("labelSelector", selector)]
        if let after { pairs += [("watch", "true"), ("after", String(after)), ("wait", "30")] }
        return try await client.call(.GET, path + TansiqClient.query(pairs), timeout: .seconds(75))
    }

    func fetchNodes(_ client: TansiqClient, _ after: Int64?) async throws -> ItemList<Node> {
        try await list(client, "/v1/nodes", [], after)
    }

    func fetchApps(_ client: TansiqClient, _ after: Int64?) async throws -> ItemList<Application> {
        try await perMinistry(client, after) { "/v1/ministries/\($0)/applications" }
    }

    /// A list of each ministry asked for (`-m`, or every readable one with `-A`), joined.
    func perMinistry<Item: Listed & Codable>(
        _ client: TansiqClient, _ after: Int64?, _ path: (String) -> String
    ) async throws -> ItemList<Item> {
        var ministries = ministry.map { [$0] } ?? []
        if ministry == nil { ministries = try await client.ministries().items.map(\.metadata.name) }
        var all = ItemList<Item>(items: [])
        for (index, ministry) in ministries.enumerated() {
            // Watching many ministries: the first waits for a change, the others are read after it.
            let part: ItemList<Item> = try await list(
                client, path(TansiqClient.escape(ministry)), [], index == 0 ? after : nil)
            all.items += part.items
            all.resourceVersion = max(all.resourceVersion ?? 0, part.resourceVersion ?? 0)
        }
        return all
    }

    /// Fetches, filters by name, sorts and prints; with -w, then prints what changes.
    func show<Item: Listed & Codable>(
        _ client: TansiqClient, _ ministryNames: MinistryNames, _: Item.Type,
        _ fetch: (Int64?) async throws -> ItemList<Item>
    ) async throws {
        var page = try await fetch(nil)
        var items = try select(page.items)
        if items.isEmpty, !names.isEmpty {
            throw CLIError.failed("no \(Item.kindName) named \(names.joined(separator: ", "))")
        }
        switch output {
        case .json, .yaml:
            try Printed.print(items.map { AnyEncodable($0.printable) }, single: names.count == 1, format: output)
            return
        case .name:
            for item in items { Output.line("\(Item.kindName)/\(item.listName)") }
        case .table, .wide:
            let rows = items.map { $0.row(wide: output == .wide, names: ministryNames) }
            Output.line(Table.render((noHeaders ? [] : [Item.header(wide: output == .wide)]) + rows), terminator: "")
        }
        guard watch else { return }
        var seen = Dictionary(
            items.map { ($0.listName, $0.row(wide: true, names: ministryNames)) }, uniquingKeysWith: { a, _ in a })
        while true {
            page = try await fetch(page.resourceVersion ?? 0)
            items = try select(page.items)
            var now: [String: [String]] = [:]
            for item in items {
                let row = item.row(wide: true, names: ministryNames)
                now[item.listName] = row
                guard seen[item.listName] != row else { continue }
                if output == .name {
                    Output.line("\(Item.kindName)/\(item.listName)")
                } else {
                    Output.line(Table.render([item.row(wide: output == .wide, names: ministryNames)]), terminator: "")
                }
            }
            for gone in seen.keys.sorted() where now[gone] == nil { Output.line("\(Item.kindName)/\(gone) deleted") }
            seen = now
        }
    }

    /// The named ones (all when no names), sorted by `--sort-by`.
    func select<Item: Listed>(_ items: [Item]) throws -> [Item] {
        var chosen = names.isEmpty ? items : items.filter { names.contains($0.listName) }
        if let sortBy {
            let keyed = try chosen.map { ($0, try FieldPath.value(sortBy, of: $0.printable)) }
            chosen = keyed.sorted { FieldPath.less($0.1, $1.1) }.map(\.0)
        }
        return chosen
    }
}

/// `--lang ar|en` (or `TANSIQ_LANG`): tables name ministries by their display names.
struct LanguageOption: ParsableArguments {
    @Option(name: .customLong("lang"), help: "ar or en: tables name ministries by their Arabic or English names.")
    var lang: String?

    func validate() throws {
        if let lang, !["ar", "en"].contains(lang) { throw ValidationError("--lang \(lang): ar or en") }
    }

    var language: String? {
        lang ?? ProcessInfo.processInfo.environment["TANSIQ_LANG"].flatMap { ["ar", "en"].contains($0) ? $0 : nil }
    }

    /// The display names of the ministries the caller may read, when a language is asked for.
    func names(_ client: TansiqClient) async throws -> MinistryNames {
        var names = MinistryNames(language: language)
        if language != nil {
            for ministry in try await client.ministries().items {
                names.display[ministry.metadata.name] = ministry.spec.displayName
            }
        }
        return names
    }
}

/// Lets any encodable value be encoded.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

/// `--sort-by` paths: `.a.b` over the JSON of a printed object.
enum FieldPath {
    static func value(_ path: String, of object: any Encodable) throws -> JSONValue {
        let data = try WireJSON.encoder().encode(AnyEncodable(object))
        var value = try WireJSON.decoder().decode(JSONValue.self, from: data)
        for key in path.split(separator: ".") {
            guard case .object(let fields) = value else { return .null }
            value = fields[String(key)] ?? .null
        }
        return value
    }

    /// Numbers by value, everything else by its text; missing values last.
    static func less(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y
        case (.double(let x), .double(let y)): return x < y
        case (.null, _): return false
        case (_, .null): return true
        default: return text(a) < text(b)
        }
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .bool(let b): String(b)
        default: ""
        }
    }
}
